package views

import (
	"bufio"
	"fmt"
	"io"

	"github.com/neo4jctl/neo4jctl/plan"
)

// compactPlan lists one line per changing step (waits left out), refusals,
// warnings and the summary: what users of terraform plan -compact ask for.
// A warning stays: it is often the only mention of something plan chose
// not to do (an object it will not delete).
type compactPlan struct{}

func (compactPlan) Render(w io.Writer, p *plan.Plan) error {
	bw := bufio.NewWriter(w)
	for _, u := range p.Unknown {
		fmt.Fprintf(bw, "? %s plane unknown: %s\n", u.Plane, u.Reason)
	}
	for _, s := range p.Steps {
		if s.Action == plan.ActionRead {
			continue
		}
		fmt.Fprintf(bw, "%-3s %s  %s\n", symbol(s), s.Address, s.Kind)
	}
	for _, r := range p.Refusals {
		fmt.Fprintf(bw, "refused %s: %s (fix: %s)\n", r.Address, r.Reason, r.Fix)
	}
	for _, w := range p.Warnings {
		fmt.Fprintf(bw, "warning: %s\n", w)
	}
	fmt.Fprintln(bw, SummaryLine(p))
	return bw.Flush()
}
