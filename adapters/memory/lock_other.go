//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd)

package memory

import "os"

// lockDir opens the lock file at path. This system has no flock: keeping a
// directory to one Store is up to the caller.
func lockDir(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
}
