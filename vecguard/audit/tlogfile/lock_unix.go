//go:build unix

package tlogfile

import (
	"errors"
	"os"
	"syscall"
)

// lockFile takes an exclusive advisory lock on f, so that two processes
// never append to one log.
func lockFile(f *os.File) (func(), error) {
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, errors.New("tlogfile: the log is open in another process")
		}
		return nil, err
	}
	return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }, nil
}
