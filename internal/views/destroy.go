package views

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/neo4jctl/neo4jctl/internal/lifecycle"
)

// DestroyView renders a destroy plan and destroy's progress.
type DestroyView interface {
	// Plan renders the plan to out.
	Plan(out io.Writer, p *lifecycle.DestroyPlan) error
	lifecycle.DestroyHook
	// Done reports the outcome.
	Done(p *lifecycle.DestroyPlan, err error)
}

// NewDestroyView returns the human or json destroy view; progress goes to
// errOut (human) or is left out (json: the plan document is the output).
func NewDestroyView(format string, errOut io.Writer, color bool) (DestroyView, error) {
	switch format {
	case FormatHuman, "":
		return &humanDestroy{errOut: errOut, color: color, st: newStyles(errOut, color)}, nil
	case FormatJSON:
		return jsonDestroy{}, nil
	}
	return nil, fmt.Errorf("unknown output format %q (want human or json)", format)
}

// DestroySummary is the destroy plan's one-line summary, for scripts.
func DestroySummary(p *lifecycle.DestroyPlan) string {
	claims := fmt.Sprintf("%d claims kept", p.KeptClaims())
	if p.DeleteData {
		claims = fmt.Sprintf("%d claims deleted", len(p.Claims)-p.KeptClaims())
	}
	s := fmt.Sprintf("Destroy: %d to destroy, %s, %d not neo4jctl's kept.", p.Deletes(), claims, len(p.Survivors))
	if p.Backups.BackupFirst {
		s = "Destroy: backup first, then " + s[len("Destroy: "):]
	}
	return s
}

type humanDestroy struct {
	errOut io.Writer
	color  bool
	st     styles
}

var phaseTitles = map[lifecycle.Phase]string{
	lifecycle.PhaseBackup:       "Back up every database first",
	lifecycle.PhaseWorkloads:    "Stop the servers",
	lifecycle.PhaseConfig:       "Delete Services, configuration and policies",
	lifecycle.PhaseVerification: "Delete the backup verification objects (the scratch namespace with everything in it, and its Role; no data: verification results stay in the backup catalogue)",
	lifecycle.PhaseData:         "Delete the data (--delete-data)",
	lifecycle.PhaseInventory:    "Delete the inventory last",
}

func (h *humanDestroy) Plan(out io.Writer, p *lifecycle.DestroyPlan) error {
	st := newStyles(out, h.color)
	w := &errWriter{w: out}
	w.printf("Destroy plan for cluster %s/%s (from its inventory: only what neo4jctl applied)\n", p.Namespace, p.Cluster)
	if !p.InventoryFound {
		w.printf("\nThe cluster has no inventory: neo4jctl applied nothing here, or an earlier destroy finished.\n")
	}
	var last lifecycle.Phase
	for _, s := range p.Steps {
		if s.Phase != last {
			w.printf("\n%s\n", st.header(fmt.Sprintf("%d. %s", phaseOrder(p, s.Phase), phaseTitles[s.Phase])))
			last = s.Phase
		}
		switch s.Action {
		case lifecycle.ActionBackup:
			w.printf("  %s %s  backup of every database\n", st.read("<="), s.Address)
		case lifecycle.ActionDeleteClaim:
			w.printf("  %s %s  irreversible: the server's data\n", st.irreversible("!"), s.Address)
		default:
			w.printf("  %s %s\n", st.destroy("-"), s.Address)
		}
	}
	if len(p.Claims) > 0 {
		w.printf("\nClaims (the servers' data):\n")
		for _, c := range p.Claims {
			size := ""
			if c.Capacity != "" {
				size = " (" + c.Capacity + ")"
			}
			if c.Action == "keep" {
				w.printf("  = %s%s  kept (pass --delete-data to delete it)\n", c.Name, size)
			} else {
				w.printf("  %s %s%s  deleted\n", st.irreversible("!"), c.Name, size)
			}
		}
	}
	w.printf("\nBackups: %s.\n", p.Backups.Note)
	if len(p.Survivors) > 0 {
		w.printf("\nKept, not neo4jctl's:\n")
		for _, s := range p.Survivors {
			w.printf("  = %s  %s\n", s.Address, s.Reason)
		}
	}
	for _, r := range p.Refusals {
		w.printf("\n%s %s (fix: %s)\n", st.refusal("Refused:"), r.Reason, r.Fix)
	}
	w.printf("\n%s\n", DestroySummary(p))
	return w.err
}

// phaseOrder numbers the phases present in p from 1.
func phaseOrder(p *lifecycle.DestroyPlan, ph lifecycle.Phase) int {
	n := 0
	var last lifecycle.Phase
	for _, s := range p.Steps {
		if s.Phase != last {
			n++
			last = s.Phase
		}
		if s.Phase == ph {
			return n
		}
	}
	return n
}

func (h *humanDestroy) DestroyStepStarted(s lifecycle.DestroyStep) {
	fmt.Fprintf(h.errOut, "%s: %s...\n", s.Address, destroyVerb(s, false))
}

func (h *humanDestroy) DestroyStepDone(s lifecycle.DestroyStep, err error) {
	if err != nil {
		fmt.Fprintf(h.errOut, "%s: %s\n", s.Address, h.st.refusal("failed: "+err.Error()))
		return
	}
	fmt.Fprintf(h.errOut, "%s: %s\n", s.Address, destroyVerb(s, true))
}

func destroyVerb(s lifecycle.DestroyStep, done bool) string {
	if s.Action == lifecycle.ActionBackup {
		if done {
			return "Backed up"
		}
		return "Backing up"
	}
	if done {
		return "Deleted"
	}
	return "Deleting"
}

func (h *humanDestroy) Done(p *lifecycle.DestroyPlan, err error) {
	if err != nil {
		return // the error is printed once, by the command
	}
	fmt.Fprintf(h.errOut, "\nDestroy complete: %d deleted, %d claims kept.\n", p.Deletes(), p.KeptClaims())
}

type jsonDestroy struct{}

func (jsonDestroy) Plan(out io.Writer, p *lifecycle.DestroyPlan) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(p)
}
func (jsonDestroy) DestroyStepStarted(lifecycle.DestroyStep)     {}
func (jsonDestroy) DestroyStepDone(lifecycle.DestroyStep, error) {}
func (jsonDestroy) Done(*lifecycle.DestroyPlan, error)           {}

// errWriter keeps the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}
