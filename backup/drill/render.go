package drill

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// Formats of a drill report.
const (
	FormatText     = "text"
	FormatJSON     = "json"
	FormatMarkdown = "markdown"
)

// Render writes the report in format (text, json or markdown).
func Render(w io.Writer, r *Report, format string) error {
	switch format {
	case FormatJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			FormatVersion string `json:"format_version"`
			*Report
			Met bool `json:"met"`
		}{"1", r, r.Met()})
	case FormatMarkdown:
		return renderMarkdown(w, r)
	case FormatText, "":
		return renderText(w, r)
	}
	return fmt.Errorf("unknown format %q: want text, json or markdown", format)
}

func secs(d Duration) string { return time.Duration(d).Round(time.Second).String() }

func objective(d Duration) string {
	if d == 0 {
		return "none set"
	}
	return time.Duration(d).String()
}

func verdict(r *Report) string {
	if r.Met() {
		return "objectives met"
	}
	return "OBJECTIVE MISSED"
}

func rtoText(r *Report) string {
	if r.Healthy.IsZero() {
		return "not achieved (never healthy)"
	}
	return secs(r.RTO)
}

func renderText(w io.Writer, r *Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "DR drill of %s/%s in scratch namespace %s, started %s\n", r.Namespace, r.Cluster, r.ScratchNamespace, r.Started.UTC().Format(time.RFC3339))
	if r.Backups != "" {
		fmt.Fprintf(&b, "Backups read from %s\n", r.Backups)
	}
	if r.Context != "" {
		fmt.Fprintf(&b, "Scratch cluster in Kubernetes context %s\n", r.Context)
	}
	if r.Simulated {
		b.WriteString("SIMULATED: some steps below did not run for real (marked); this drill proves the procedure, not a real recovery time.\n")
	}
	b.WriteString("\nSteps:\n")
	width := 0
	for _, s := range r.Steps {
		width = max(width, len(s.Name))
	}
	for _, s := range r.Steps {
		mark := "ok"
		if s.Error != "" {
			mark = "FAILED"
		}
		fmt.Fprintf(&b, "  %-6s %-*s %6s", mark, width, s.Name, secs(s.Took))
		if s.Simulated != "" {
			fmt.Fprintf(&b, "  [simulated: %s]", s.Simulated)
		}
		if s.Error != "" {
			fmt.Fprintf(&b, "\n         %s", s.Error)
		}
		b.WriteString("\n")
	}
	if len(r.Counts) > 0 {
		b.WriteString("\nData (MATCH (n) RETURN count(n)):\n")
		for _, c := range r.Counts {
			if c.Error != "" {
				fmt.Fprintf(&b, "  %-20s FAILED: %s\n", c.Database, c.Error)
				continue
			}
			fmt.Fprintf(&b, "  %-20s %d nodes (from %s)\n", c.Database, c.Nodes, c.Restored)
		}
	}
	fmt.Fprintf(&b, "\nRTO achieved: %s (objective %s)\n", rtoText(r), objective(r.Objectives.RTO))
	for _, p := range r.Points {
		if !p.Available {
			fmt.Fprintf(&b, "RPO of %s: no restorable backup (objective %s)\n", p.Database, objective(r.Objectives.RPO))
			continue
		}
		fmt.Fprintf(&b, "RPO of %s: %s (newest restorable %s; objective %s)\n", p.Database, secs(p.RPO), p.Newest, objective(r.Objectives.RPO))
	}
	fmt.Fprintf(&b, "\nDrill: %s\n", verdict(r))
	for _, m := range r.Missed {
		fmt.Fprintf(&b, "  missed: %s\n", m)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func renderMarkdown(w io.Writer, r *Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "## DR drill: %s/%s — %s\n\n", r.Namespace, r.Cluster, verdict(r))
	if r.Backups != "" {
		fmt.Fprintf(&b, "Backups read from `%s`.\n\n", r.Backups)
	}
	if r.Context != "" {
		fmt.Fprintf(&b, "Scratch cluster in Kubernetes context `%s`.\n\n", r.Context)
	}
	if r.Simulated {
		b.WriteString("> **Simulated**: the steps marked below did not run for real; this drill proves the procedure, not a real recovery time.\n\n")
	}
	b.WriteString("| objective | achieved | target |\n|---|---|---|\n")
	fmt.Fprintf(&b, "| RTO | %s | %s |\n", rtoText(r), objective(r.Objectives.RTO))
	for _, p := range r.Points {
		got := "no restorable backup"
		if p.Available {
			got = secs(p.RPO) + " (`" + p.Newest + "`)"
		}
		fmt.Fprintf(&b, "| RPO %s | %s | %s |\n", p.Database, got, objective(r.Objectives.RPO))
	}
	b.WriteString("\n| step | took | result | simulated |\n|---|---|---|---|\n")
	for _, s := range r.Steps {
		res := "ok"
		if s.Error != "" {
			res = "failed: " + strings.ReplaceAll(s.Error, "|", `\|`)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", s.Name, secs(s.Took), res, strings.ReplaceAll(s.Simulated, "|", `\|`))
	}
	if len(r.Counts) > 0 {
		b.WriteString("\n| database | nodes | restored from |\n|---|---|---|\n")
		for _, c := range r.Counts {
			n := fmt.Sprint(c.Nodes)
			if c.Error != "" {
				n = "failed: " + c.Error
			}
			fmt.Fprintf(&b, "| %s | %s | `%s` |\n", c.Database, n, c.Restored)
		}
	}
	for _, m := range r.Missed {
		fmt.Fprintf(&b, "\n- missed: %s", m)
	}
	if len(r.Missed) > 0 {
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
