package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/internal/pipeline"
	"github.com/neo4jctl/neo4jctl/internal/views"
	"github.com/neo4jctl/neo4jctl/plan"
)

// runFleet applies several clusters in one run, at most o.Parallel at once,
// each as a single apply with --auto-approve would (its own lock, plan,
// whose dry runs are the preflight, and steps), except that the verifying
// plans wait until every cluster has applied and then read the fleet's
// objects with one LIST per kind (fleetVerify). Output lines are prefixed
// with the cluster so the interleaved progress stays readable; NDJSON
// events get a "cluster" field. One cluster's failure does not stop the
// others.
func (o *ApplyOptions) runFleet(ctx context.Context, runner func() (*pipeline.Runner, error)) error {
	files, err := expandFiles(o.Files)
	if err != nil {
		return err
	}
	targets, err := loadTargetsFrom(o.IO.In, files, o.FlagNamespace)
	if err != nil {
		return err
	}
	saved := make([]*plan.Plan, len(targets))
	if o.PlanFile != "" {
		// Each cluster's saved plan is checked as a single one is: under
		// its lock, against a fresh plan (applyTarget).
		if saved, err = readSavedPlans(o.PlanFile, targets); err != nil {
			return err
		}
	}
	// One runner, so one connection and one server version read, for
	// every cluster.
	r, err := runner()
	if err != nil {
		return err
	}
	var mu sync.Mutex // one line at a time on each stream
	errs := make([]error, len(targets))
	// The fleet's shared lists report their retries on a line of their own.
	fleetOut := &lineWriter{mu: &mu, w: o.IO.ErrOut, label: "fleet", json: o.Output == views.FormatJSON}
	listCtx := kube.WithRetryHook(ctx, func(what string, attempt int, err error) {
		fmt.Fprintf(fleetOut, "Retrying %s (attempt %d failed: %v)\n", what, attempt, err)
	})
	fv := newFleetVerify(listCtx, r, targets, o.Parallel)
	// A goroutine per cluster; fv's work slots bound how many work at once
	// (a cluster waiting for the others to apply holds none).
	eachTarget(targets, len(targets), func(i int, t *pipeline.Target) {
		var tv *targetVerify
		if len(targets) > 1 { // for one, the fleet's lists cost what they save
			tv = fv.forTarget()
			defer tv.done()
		}
		if !fv.acquire(ctx) {
			errs[i] = errInterrupted
			return
		}
		held := func() bool { return tv == nil || tv.holds }
		defer func() {
			if held() {
				fv.release()
			}
		}()
		out := &lineWriter{mu: &mu, w: o.IO.Out, label: t.Name(), json: o.Output == views.FormatJSON}
		errOut := &lineWriter{mu: &mu, w: o.IO.ErrOut, label: t.Name(), json: o.Output == views.FormatJSON}
		errs[i] = o.applyTarget(ctx, r, t, saved[i], out, errOut, tv)
		out.flush()
		errOut.flush()
	})
	fleetOut.flush()
	if ctx.Err() != nil {
		return errInterrupted
	}
	return fleetResult(o.IO.ErrOut, targets, errs)
}

// fleetResult prints one line per cluster that did not succeed and decides
// the exit code: any failure is exit 1.
func fleetResult(w io.Writer, targets []*pipeline.Target, errs []error) error {
	failed := 0
	for i, err := range errs {
		if err == nil {
			continue
		}
		if code, _ := exitCode(err); code == ExitChanges {
			continue // --detailed-exitcode: applied, not failed
		}
		failed++
		msg := err.Error()
		var ec *ExitCodeError
		if errors.As(err, &ec) && ec.Err == nil {
			msg = "apply failed (see its result table above)"
		}
		fmt.Fprintf(w, "[%s] Error: %s\n", targets[i].Name(), msg)
	}
	if failed > 0 {
		return &ExitCodeError{Code: ExitError, Err: fmt.Errorf("%d of %d %s failed to apply", failed, len(targets), pluralWord(len(targets), "cluster", "clusters"))}
	}
	fmt.Fprintf(w, "Fleet apply complete: %d %s.\n", len(targets), pluralWord(len(targets), "cluster", "clusters"))
	for _, err := range errs {
		if code, _ := exitCode(err); code == ExitChanges {
			return silentExit(ExitChanges)
		}
	}
	return nil
}

// lineWriter prefixes every line with its cluster ("[ns/name] ") — or, for
// NDJSON, adds a "cluster" field to each event — and writes whole lines
// under a shared mutex so concurrent clusters never interleave mid-line.
type lineWriter struct {
	mu    *sync.Mutex
	w     io.Writer
	label string
	json  bool
	buf   bytes.Buffer
}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.buf.Write(p)
	for {
		line, err := l.buf.ReadBytes('\n')
		if err != nil { // no newline yet: keep the partial line
			l.buf.Reset()
			l.buf.Write(line)
			return len(p), nil
		}
		l.writeLine(line)
	}
}

func (l *lineWriter) writeLine(line []byte) {
	var out []byte
	switch {
	case l.json && bytes.HasPrefix(line, []byte("{")):
		field, _ := jsonString(l.label)
		out = append([]byte(`{"cluster":`+field+`,`), line[1:]...)
	case len(bytes.TrimSpace(line)) == 0:
		out = line
	default:
		out = append([]byte("["+l.label+"] "), line...)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = l.w.Write(out)
}

// flush writes a last line that had no newline.
func (l *lineWriter) flush() {
	if l.buf.Len() > 0 {
		rest := append(l.buf.Bytes(), '\n')
		l.buf.Reset()
		l.writeLine(rest)
	}
}

func jsonString(s string) (string, error) {
	b, err := json.Marshal(s)
	return string(b), err
}

// fleetVerify lets a fleet's verifying plans share their reads. A cluster
// that has applied waits (holding its lock, but no work slot) until every
// cluster has either applied or finished; the first to go on starts one
// LIST per kind across the fleet (pipeline.Runner.Prefetch), read after
// every write of the run, and each verifying plan reads its live objects
// and inventory from those lists. Its dry runs are mostly answered by the
// apply's own responses (kube.Client skips the dry run of an object it
// wrote whose resourceVersion has not moved). A 50-cluster fleet's
// verification then costs about 10 requests instead of 500.
type fleetVerify struct {
	ctx     context.Context // of the fleet's lists: the run's, with a retry hook
	shared  *pipeline.Runner
	targets []*pipeline.Target
	slots   chan struct{}

	mu      sync.Mutex
	pending int           // clusters that have neither arrived nor left
	ready   chan struct{} // closed when pending reaches 0
	runner  func() *pipeline.Runner
}

func newFleetVerify(ctx context.Context, shared *pipeline.Runner, targets []*pipeline.Target, parallel int) *fleetVerify {
	fv := &fleetVerify{
		ctx: ctx, shared: shared, targets: targets, slots: make(chan struct{}, max(parallel, 1)),
		pending: len(targets), ready: make(chan struct{}),
	}
	fv.runner = sync.OnceValue(func() *pipeline.Runner {
		r := *fv.shared
		// The run's context, not one cluster's: all of them read these
		// lists, and Ctrl-C stops them.
		r.Prefetch(fv.ctx, fv.targets)
		return &r
	})
	return fv
}

// acquire takes a work slot; false (holding none) if ctx ended first.
func (fv *fleetVerify) acquire(ctx context.Context) bool {
	select {
	case fv.slots <- struct{}{}:
		if ctx.Err() != nil { // select picks at random when both are ready
			<-fv.slots
			return false
		}
		return true
	case <-ctx.Done():
		return false
	}
}

func (fv *fleetVerify) release() { <-fv.slots }

// leave counts a cluster out of the wait: it has arrived at its
// verification, or finished without one.
func (fv *fleetVerify) leave() {
	fv.mu.Lock()
	defer fv.mu.Unlock()
	fv.pending--
	if fv.pending == 0 {
		close(fv.ready)
	}
}

// forTarget returns one cluster's view of the wait; the cluster holds a
// work slot until plan gives it up.
func (fv *fleetVerify) forTarget() *targetVerify { return &targetVerify{fv: fv, holds: true} }

type targetVerify struct {
	fv   *fleetVerify
	once sync.Once
	// holds says whether the cluster holds a work slot; only its own
	// goroutine reads and writes it.
	holds bool
}

// done counts the cluster out of the wait, once: when it arrives at its
// verification, or when its apply returns without one.
func (tv *targetVerify) done() { tv.once.Do(tv.fv.leave) }

// plan computes the cluster's verifying plan once every cluster has applied.
// r is the cluster's runner (its retry hooks); the plan reads from the
// fleet's lists.
func (tv *targetVerify) plan(ctx context.Context, r *pipeline.Runner, t *pipeline.Target, opts plan.Options) (*plan.Plan, error) {
	tv.done()
	// The work slot goes while waiting and comes back after (holds tells
	// the caller whether to release it).
	tv.fv.release()
	tv.holds = false
	select {
	case <-tv.fv.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if !tv.fv.acquire(ctx) {
		return nil, ctx.Err()
	}
	tv.holds = true
	vr := *tv.fv.runner()
	vr.Neo4j.OnRetry = r.Neo4j.OnRetry
	p, _, err := vr.Plan(ctx, t, opts)
	return p, err
}
