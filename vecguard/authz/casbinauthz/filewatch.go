package casbinauthz

import (
	"context"
	"crypto/sha256"
	"os"
	"time"

	"github.com/vecguard/vecguard/vecguard/driver"
)

// FileWatcher reloads an Authorizer when its policy file changes: hot
// reload for a policy file edited in place or replaced (by a deployment or
// a config-map mount). It compares the file's SHA-256 at each check, so a
// rewrite with the same content costs nothing and a change within the same
// second as the previous one is still seen. A Watcher (Options.Watcher)
// is the way for instances that share a policy store; FileWatcher is for
// instances that each read a file.
type FileWatcher struct {
	a    *Authorizer
	path string
	last [sha256.Size]byte
}

// NewFileWatcher returns a watcher of the policy file at path for a, which
// should have been loaded from that file.
func NewFileWatcher(a *Authorizer, path string) (*FileWatcher, error) {
	w := &FileWatcher{a: a, path: path}
	sum, err := w.sum()
	if err != nil {
		return nil, err
	}
	w.last = sum
	return w, nil
}

func (w *FileWatcher) sum() ([sha256.Size]byte, error) {
	b, err := os.ReadFile(w.path)
	if err != nil {
		return [sha256.Size]byte{}, driver.Wrap(driver.Unavailable, err, "casbinauthz: reading the policy file")
	}
	return sha256.Sum256(b), nil
}

// Check reads the file once and reloads the Authorizer if it changed. It
// reports whether it reloaded. A file that cannot be read or parsed leaves
// the policy in force as it was (see Reload) and returns the error; the
// next Check tries again.
func (w *FileWatcher) Check(ctx context.Context) (bool, error) {
	sum, err := w.sum()
	if err != nil {
		return false, err
	}
	if sum == w.last {
		return false, nil
	}
	if err := w.a.Reload(ctx); err != nil && driver.CodeOf(err) != driver.InvalidArgument {
		// Not loaded: keep the old sum so the next check retries.
		return false, err
	} else if err != nil {
		// Loaded, with invalid rules applied fail-closed.
		w.last = sum
		return true, err
	}
	w.last = sum
	return true, nil
}

// Run checks the file every interval until ctx is done, passing errors to
// onError (which may be nil).
func (w *FileWatcher) Run(ctx context.Context, interval time.Duration, onError func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := w.Check(ctx); err != nil && onError != nil {
				onError(err)
			}
		}
	}
}
