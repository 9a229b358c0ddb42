package apply

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/neo4jctl/neo4jctl/internal/neo4j"
	"github.com/neo4jctl/neo4jctl/plan"
)

// connectBudget bounds how long a non-wait step retries opening the Neo4j
// connection.
const connectBudget = time.Minute

// progress reports "Still waiting for <status> [<elapsed> elapsed]" every
// ProgressEvery while a wait runs; the wait updates status as it learns.
type progress struct {
	mu     sync.Mutex
	status string
	start  time.Time
	done   chan struct{}
	once   sync.Once
}

func (e *Executor) startProgress(s plan.Step, status string) *progress {
	p := &progress{status: status, start: e.Options.Now(), done: make(chan struct{})}
	every := e.Options.ProgressEvery
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-p.done:
				return
			case <-t.C:
				elapsed := e.Options.Now().Sub(p.start).Round(time.Second)
				e.hook().StepProgress(s, fmt.Sprintf("Still waiting for %s [%s elapsed]", p.get(), elapsed))
			}
		}
	}()
	return p
}

func (p *progress) set(status string) {
	p.mu.Lock()
	p.status = status
	p.mu.Unlock()
}

func (p *progress) get() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.status
}

func (p *progress) stop() { p.once.Do(func() { close(p.done) }) }

// timeoutError turns a wait that ran out of StepTimeout into an error that
// says what it was waiting for.
func (e *Executor) timeoutError(ctx context.Context, err error, p *progress) error {
	if err == nil {
		return nil
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("timed out after %s waiting for %s (raise --step-timeout if it is still progressing)", e.Options.StepTimeout, p.get())
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// poll calls check every PollInterval until it reports done, returns an
// error retrying cannot fix, or ctx ends. A failed check that retrying can
// fix (Neo4j unreachable while its Pod starts, a transient error) is
// reported through StepRetry and polled again.
func (e *Executor) poll(ctx context.Context, s plan.Step, what string, check func(ctx context.Context) (done bool, detail string, err error)) error {
	pr := e.startProgress(s, what)
	defer pr.stop()
	var lastErr error
	for attempt := 1; ; attempt++ {
		done, detail, err := check(ctx)
		switch {
		case err == nil && done:
			return nil
		case err == nil:
			if detail != "" {
				pr.set(what + " (" + detail + ")")
			} else {
				pr.set(what)
			}
		case ctx.Err() != nil:
			// The check failed because the wait ended.
		case !pollRetryable(err):
			return err
		default:
			lastErr = err
			e.hook().StepRetry(s, "check "+what, attempt, err)
		}
		if err := sleep(ctx, e.Options.PollInterval); err != nil {
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				msg := fmt.Sprintf("timed out after %s waiting for %s", e.Options.StepTimeout, pr.get())
				if lastErr != nil {
					msg += fmt.Sprintf(" (last error: %v)", lastErr)
				}
				return errors.New(msg)
			}
			return err
		}
	}
}

// pollRetryable: a Neo4j error a later attempt may not hit. Anything else
// (a wrong password, a refusal, a Kubernetes error the client already
// retried) ends the wait.
func pollRetryable(err error) bool {
	var ne *neo4j.Error
	if !errors.As(err, &ne) {
		return false
	}
	return neo4j.Retryable(err)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
