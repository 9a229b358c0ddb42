package views

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/neo4jctl/neo4jctl/plan"
)

// markdownPlan renders a plan for a pull-request comment or
// $GITHUB_STEP_SUMMARY: the summary first, a table of steps, refusals and
// irreversible steps called out, field diffs folded away.
type markdownPlan struct{}

func (markdownPlan) Render(w io.Writer, p *plan.Plan) error {
	bw := bufio.NewWriter(w)
	pr := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	title := "neo4jctl plan"
	if p.Cluster != "" {
		title += " — `" + p.Namespace + "/" + p.Cluster + "`"
	}
	pr("### %s\n\n**%s**\n\n", title, SummaryLine(p))
	for _, u := range p.Unknown {
		pr("> [!WARNING]\n> The %s plane could not be observed: %s. This plan is incomplete.\n\n", planeName(u.Plane), cell(u.Reason))
	}
	if len(p.Refusals) > 0 {
		pr("#### Refused — apply will not run this plan\n\n")
		for _, r := range p.Refusals {
			pr("- `%s`: %s  \n  **Fix:** %s\n", r.Address, r.Reason, r.Fix)
		}
		pr("\n")
	}
	var irr []string
	for _, s := range p.Steps {
		if s.Irreversible {
			irr = append(irr, fmt.Sprintf("> %s `%s` %s", s.ID, displayAddress(s), statement(s)))
		}
	}
	if len(irr) > 0 {
		pr("> [!CAUTION]\n> Irreversible steps (cannot be undone):\n>\n%s\n\n", strings.Join(irr, "  \n"))
	}
	if len(p.Steps) > 0 {
		pr("| Step | | Address | Operation | Reason | After |\n|---|:-:|---|---|---|---|\n")
		for _, s := range p.Steps {
			deps := strings.Join(s.DependsOn, ", ")
			pr("| %s | `%s` | `%s` | %s | %s | %s |\n", s.ID, symbol(s), cell(displayAddress(s)), cell(statement(s)), cell(s.Reason), deps)
		}
		pr("\n")
	}
	for _, wn := range p.Warnings {
		pr("- :warning: %s\n", cell(wn))
	}
	if len(p.Warnings) > 0 {
		pr("\n")
	}
	var diff strings.Builder
	for _, s := range p.Steps {
		if !hasBlock(s) {
			continue
		}
		fmt.Fprintf(&diff, "# %s %s\n", s.Address, header(s))
		for _, l := range fieldLines(s) {
			// GitHub colours diff lines by their first character: show an
			// update as the old line removed and the new one added.
			if before, after, ok := splitUpdate(l); ok {
				fmt.Fprintf(&diff, "-%s\n+%s\n", before, after)
				continue
			}
			fmt.Fprintf(&diff, "%s\n", l)
		}
	}
	if diff.Len() > 0 {
		pr("<details><summary>Field diffs</summary>\n\n```diff\n%s```\n\n</details>\n", diff.String())
	}
	return bw.Flush()
}

func splitUpdate(l string) (string, string, bool) {
	if !strings.HasPrefix(l, "~ ") {
		return "", "", false
	}
	path, rest, ok := strings.Cut(l[2:], ": ")
	if !ok {
		return "", "", false
	}
	before, after, ok := strings.Cut(rest, " → ")
	if !ok {
		return "", "", false
	}
	return " " + path + ": " + before, " " + path + ": " + after, true
}

// cell escapes text for a table cell.
func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}
