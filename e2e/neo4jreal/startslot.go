package neo4jreal

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// startSlots is how many real Neo4j servers may be starting at once on
// this machine, across every test process. A start is a JVM loading and
// initialising Neo4j: about a CPU-minute on a 2-core machine. make test
// runs several packages at once and e2e/suites' tests in parallel, and
// when five starts shared two cores none reached READY within its timeout
// (seen under load: READY printed just after the 3 minutes). Holding a
// slot only until READY keeps the starts from starving each other while
// the running servers overlap freely.
const startSlots = 2

// acquireStartSlot waits for one of the machine's start slots (an flock on
// a file in the cache directory, released by the kernel if the process
// dies) and returns its release. ctx bounds the wait.
func acquireStartSlot(ctx context.Context) (release func(), err error) {
	dir, err := DefaultCacheDir()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var files []*os.File
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	for i := 0; i < startSlots; i++ {
		f, err := os.OpenFile(filepath.Join(dir, fmt.Sprintf("start-slot-%d.lock", i)), os.O_CREATE|os.O_RDWR, 0o644)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		for i, f := range files {
			if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
				files = append(files[:i], files[i+1:]...) // kept open: the lock lives with it
				return func() { f.Close() }, nil
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("neo4jreal: waiting for a start slot: %w", ctx.Err())
		case <-tick.C:
		}
	}
}
