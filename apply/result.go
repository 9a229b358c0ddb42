package apply

import (
	"fmt"
	"time"

	"github.com/neo4jctl/neo4jctl/plan"
)

// Status is how one step ended.
type Status string

// Step statuses.
const (
	// StatusApplied: the step did what it says (a write took effect, or a
	// wait saw its condition).
	StatusApplied Status = "applied"
	// StatusFailed: the step's error is in StepResult.Err.
	StatusFailed Status = "failed"
	// StatusSkipped: a step it depends on failed or was skipped, or apply
	// was interrupted before reaching it.
	StatusSkipped Status = "skipped"
	// StatusUnchanged: nothing had to be sent (the state was already as
	// the step wanted, e.g. on a rerun after a partial apply, or the step
	// is display only).
	StatusUnchanged Status = "unchanged"
)

// StepResult is the outcome of one step.
type StepResult struct {
	ID      string
	Address string
	Kind    plan.Kind
	Status  Status
	// Err is set for StatusFailed.
	Err error
	// Note says why a step was skipped or unchanged, or what a step
	// learned (the serverId a pending server resolved to).
	Note     string
	Duration time.Duration
}

// Result is what Apply did, step by step, in plan order.
type Result struct {
	Steps []StepResult
	// Preflight lists the objects the dry run refused; when it is not
	// empty nothing was written.
	Preflight []error
	// Wrote reports whether anything may have been written.
	Wrote bool
	// Verified reports that the fresh plan after apply was empty.
	Verified bool
	// Interrupted reports that the context ended during apply.
	Interrupted bool
	// TLSBaseline holds the steps apply ran after its verifying plan
	// found only the first TLS certificate stamp of the StatefulSets
	// (plan.TLSBaselineOnly: cert-manager issued the Secret during the
	// apply), under the IDs their results carry in Steps; nil when it ran
	// none. A watch audits them like the plan's steps.
	TLSBaseline *plan.Plan
}

// Count returns the number of steps with status s.
func (r *Result) Count(s Status) int {
	n := 0
	for _, st := range r.Steps {
		if st.Status == s {
			n++
		}
	}
	return n
}

// Failed reports whether any step failed or was skipped, or the preflight
// refused anything.
func (r *Result) Failed() bool {
	return len(r.Preflight) > 0 || r.Count(StatusFailed) > 0 || r.Count(StatusSkipped) > 0
}

// SummaryLine is the one line scripts grep:
// "Apply complete: 5 applied." or
// "Apply failed: 3 applied, 1 failed, 2 skipped.". Unchanged steps are
// mentioned only when there are some.
func (r *Result) SummaryLine() string {
	applied, failed, skipped, unchanged := r.Count(StatusApplied), r.Count(StatusFailed), r.Count(StatusSkipped), r.Count(StatusUnchanged)
	if len(r.Preflight) > 0 {
		return fmt.Sprintf("Apply failed: the preflight dry run refused %d %s; nothing was written.", len(r.Preflight), plural(len(r.Preflight), "object", "objects"))
	}
	if failed > 0 || skipped > 0 {
		line := fmt.Sprintf("Apply failed: %d applied, %d failed, %d skipped", applied, failed, skipped)
		if unchanged > 0 {
			line += fmt.Sprintf(", %d unchanged", unchanged)
		}
		return line + "."
	}
	line := fmt.Sprintf("Apply complete: %d applied", applied)
	if unchanged > 0 {
		line += fmt.Sprintf(", %d unchanged", unchanged)
	}
	return line + "."
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
