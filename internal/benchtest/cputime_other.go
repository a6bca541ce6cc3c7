//go:build !unix

package benchtest

import "time"

func processCPU() time.Duration { return 0 }
