package views

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/neo4jctl/neo4jctl/plan"
)

type humanPlan struct{ color bool }

// Render writes one block per change, the numbered steps in the order apply
// runs them, warnings, refusals with their fix, the irreversible steps again
// and the summary line.
func (v humanPlan) Render(w io.Writer, p *plan.Plan) error {
	st := newStyles(w, v.color)
	bw := bufio.NewWriter(w)
	pr := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	colour := func(s plan.Step, text string) string {
		switch {
		case s.Irreversible:
			return st.irreversible(text)
		case s.Action == plan.ActionCreate:
			return st.add(text)
		case s.Action == plan.ActionDelete || s.Action == plan.ActionReplace:
			return st.destroy(text)
		case s.Action == plan.ActionRead:
			return st.read(text)
		}
		return st.change(text)
	}

	for _, u := range p.Unknown {
		pr("%s\n\n", st.refusal(fmt.Sprintf("The %s plane could not be observed: %s. This plan is incomplete.", planeName(u.Plane), u.Reason)))
	}

	for _, s := range p.Steps {
		if !hasBlock(s) {
			continue
		}
		pr("%s\n", st.header("# "+s.Address+" "+header(s)))
		if s.Reason != "" && s.Action != plan.ActionCreate {
			pr("%s\n", st.dim("  # "+s.Reason))
		}
		for _, l := range fieldLines(s) {
			pr("  %s\n", colourLine(st, l))
		}
		pr("\n")
	}

	if len(p.Steps) > 0 {
		pr("%s\n", st.header("Steps, in the order apply runs them:"))
		width := len(fmt.Sprint(len(p.Steps)))
		for i, s := range p.Steps {
			pr("  %*d. %s\n", width, i+1, colour(s, stepLine(s)))
			for _, d := range stepDetails(s) {
				pr("  %*s  %s\n", width, "", st.dim(d))
			}
		}
		pr("\n")
	}

	for _, c := range p.Conflicts {
		pr("Conflict: %s field %s is owned by %s.\n", c.Address, c.Field, c.Manager)
	}
	for _, wn := range p.Warnings {
		pr("Warning: %s\n", wn)
	}
	if len(p.Conflicts)+len(p.Warnings) > 0 {
		pr("\n")
	}

	if len(p.Refusals) > 0 {
		pr("%s\n", st.refusal("Refused — apply will not run this plan:"))
		for _, r := range p.Refusals {
			pr("  ✗ %s: %s\n", r.Address, r.Reason)
			if r.Fix != "" {
				pr("      fix: %s\n", r.Fix)
			}
		}
		pr("\n")
	}

	var irr []string
	for i, s := range p.Steps {
		if s.Irreversible {
			irr = append(irr, fmt.Sprintf("  ! %d. %s  %s", i+1, displayAddress(s), statement(s)))
		}
	}
	if len(irr) > 0 {
		pr("%s\n", st.irreversible("Irreversible steps (cannot be undone):"))
		for _, l := range irr {
			pr("%s\n", st.irreversible(l))
		}
		pr("\n")
	}

	pr("%s\n", st.header(SummaryLine(p)))
	return bw.Flush()
}

func planeName(p string) string {
	switch p {
	case "neo4j":
		return "Neo4j"
	case "kubernetes":
		return "Kubernetes"
	}
	return p
}

func colourLine(st styles, l string) string {
	switch {
	case strings.HasPrefix(l, "+"):
		return st.add(l)
	case strings.HasPrefix(l, "-"):
		return st.destroy(l)
	case strings.HasPrefix(l, "~"):
		return st.change(l)
	}
	return l
}
