package views

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/neo4jctl/neo4jctl/backup/restore"
)

// RestoreView renders a restore plan and the restore's progress.
type RestoreView interface {
	// Plan renders the plan to out.
	Plan(out io.Writer, p *restore.Plan) error
	restore.Hook
	// Done reports the outcome.
	Done(p *restore.Plan, took time.Duration, err error)
}

// NewRestoreView returns the human or json restore view; progress goes
// to errOut (human) or is left out (json: the plan document is the
// output).
func NewRestoreView(format string, errOut io.Writer, color bool) (RestoreView, error) {
	switch format {
	case FormatHuman, "":
		return &humanRestore{errOut: errOut, st: newStyles(errOut, color), color: color}, nil
	case FormatJSON:
		return jsonRestore{}, nil
	}
	return nil, fmt.Errorf("unknown output format %q (want human or json)", format)
}

// RestoreSummary is the plan's one-line summary, for scripts.
func RestoreSummary(p *restore.Plan) string {
	verb := "create"
	if p.Action == restore.ActionReplace {
		verb = "replace"
	}
	return fmt.Sprintf("Restore: %s %s from %d artifact(s), restored to %s.", verb, p.Into, len(p.Artifacts), p.Point.RestoredTo.UTC().Format(time.RFC3339))
}

type humanRestore struct {
	errOut io.Writer
	st     styles
	color  bool
}

func (h *humanRestore) Plan(out io.Writer, p *restore.Plan) error {
	st := newStyles(out, h.color)
	w := &errWriter{w: out}
	what := "a new database " + p.Into
	if p.Action == restore.ActionReplace {
		what = "database " + p.Into + ", replacing its data"
	}
	w.printf("Restore plan for cluster %s/%s (%s): %s from backups of %s\n", p.Namespace, p.Cluster, p.Edition, what, p.Database)
	if p.FromOtherCluster() || p.Point.Location != "" {
		in := ""
		if p.Context != "" {
			in = " in context " + p.Context
		}
		file := ""
		if p.Source.File != "" {
			file = " (" + p.Source.File + ")"
		}
		w.printf("  Target: %s/%s%s: restored into\n", p.Namespace, p.Cluster, in)
		w.printf("  Source: %s/%s%s: read only, from %s\n", p.Source.Namespace, p.Source.Cluster, file, p.Source.Storage)
	}
	w.printf("\n%s\n", st.header("Artifacts (replayed in this order)"))
	for _, a := range p.Artifacts {
		v := "never verified"
		if a.Verified != "" {
			v = "verification " + a.Verified
		}
		w.printf("  %s %s  %s  %s  %s  %s\n", st.read("<="), a.ID, a.Type, a.Created.UTC().Format(time.RFC3339), a.File, v)
	}
	if p.Point.Cut() {
		w.printf("  cut with %s\n", restore.RestoreUntilArg(p.Point.RestoreUntil))
	}
	for _, x := range p.Point.Passed {
		w.printf("  %s %s: %s\n", st.dim("skipped"), x.ID, x.Reason)
	}
	w.printf("\n%s\n  %s\n", st.header("Data-loss window"), p.Window.Description)
	w.printf("\n%s\n", st.header("Steps"))
	for i, s := range p.Steps {
		mark := s.Action
		switch s.Action {
		case "+":
			mark = st.add(mark)
		case "~":
			mark = st.change(mark)
		case "-":
			mark = st.destroy(mark)
		case "!":
			mark = st.irreversible(mark)
		default:
			mark = st.read(mark)
		}
		w.printf("  %d. %s %s\n     %s\n", i+1, mark, s.Address, s.Detail)
	}
	for _, n := range p.Notes {
		w.printf("\nNote: %s\n", n)
	}
	for _, r := range p.Refusals {
		w.printf("\n%s %s\n", st.refusal("Refused:"), r)
	}
	w.printf("\n%s\n", RestoreSummary(p))
	return w.err
}

func (h *humanRestore) StepStarted(s restore.Step) {
	fmt.Fprintf(h.errOut, "%s %s...\n", s.Kind, s.Address)
}

func (h *humanRestore) StepDone(s restore.Step, err error) {
	if err != nil {
		fmt.Fprintf(h.errOut, "%s %s: %s\n", s.Kind, s.Address, h.st.refusal("failed: "+err.Error()))
		return
	}
	fmt.Fprintf(h.errOut, "%s %s: done\n", s.Kind, s.Address)
}

func (h *humanRestore) Progress(line string) { fmt.Fprintf(h.errOut, "  %s\n", line) }

func (h *humanRestore) Done(p *restore.Plan, took time.Duration, err error) {
	if err != nil {
		return // the error is printed once, by the command
	}
	fmt.Fprintf(h.errOut, "\nRestore complete: %s restored to %s in %s.\n", p.Into, p.Point.RestoredTo.UTC().Format(time.RFC3339), took.Round(time.Second))
}

type jsonRestore struct{}

func (jsonRestore) Plan(out io.Writer, p *restore.Plan) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(p)
}
func (jsonRestore) StepStarted(restore.Step)                 {}
func (jsonRestore) StepDone(restore.Step, error)             {}
func (jsonRestore) Progress(string)                          {}
func (jsonRestore) Done(*restore.Plan, time.Duration, error) {}
