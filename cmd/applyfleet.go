package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/neo4jctl/neo4jctl/internal/pipeline"
	"github.com/neo4jctl/neo4jctl/internal/views"
)

// runFleet applies several clusters in one run, at most o.Parallel at once,
// each exactly as a single apply with --auto-approve would (its own lock,
// plan, whose dry runs are the preflight, steps and verification). Output
// lines are prefixed with the cluster so the interleaved progress stays
// readable; NDJSON events get a "cluster" field.
// One cluster's failure does not stop the others.
func (o *ApplyOptions) runFleet(ctx context.Context, runner func() (*pipeline.Runner, error)) error {
	files, err := expandFiles(o.Files)
	if err != nil {
		return err
	}
	targets, err := loadTargets(files, o.FlagNamespace)
	if err != nil {
		return err
	}
	// One runner, so one connection and one server version read, for
	// every cluster.
	r, err := runner()
	if err != nil {
		return err
	}
	var mu sync.Mutex // one line at a time on each stream
	errs := make([]error, len(targets))
	eachTarget(targets, o.Parallel, func(i int, t *pipeline.Target) {
		out := &lineWriter{mu: &mu, w: o.IO.Out, label: t.Name(), json: o.Output == views.FormatJSON}
		errOut := &lineWriter{mu: &mu, w: o.IO.ErrOut, label: t.Name(), json: o.Output == views.FormatJSON}
		errs[i] = o.applyTarget(ctx, r, t, nil, out, errOut)
		out.flush()
		errOut.flush()
	})
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
		return &ExitCodeError{Code: ExitError, Err: fmt.Errorf("%d of %d clusters failed to apply", failed, len(targets))}
	}
	fmt.Fprintf(w, "Fleet apply complete: %d clusters.\n", len(targets))
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
