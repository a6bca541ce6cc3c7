//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package memory

import (
	"os"
	"syscall"

	"github.com/vecguard/vecguard/vecguard/driver"
)

// lockDir takes an exclusive advisory lock on the lock file at path; closing
// the file releases it.
func lockDir(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, driver.Wrap(driver.FailedPrecondition, err, "memory store directory is held by another Store")
	}
	return f, nil
}
