package views

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/neo4jctl/neo4jctl/healthcheck"
)

// HealthView renders the health reports of one run (one per cluster file).
type HealthView interface {
	Render(w io.Writer, reports []*healthcheck.Report) error
}

// NewHealthView returns the view for format: human, json, markdown or
// github. color applies to human only.
func NewHealthView(format string, color bool) (HealthView, error) {
	switch format {
	case FormatHuman, FormatText, "":
		return humanHealth{color: color}, nil
	case FormatJSON:
		return jsonHealth{}, nil
	case FormatMarkdown:
		return markdownHealth{}, nil
	case FormatGitHub:
		return githubHealth{}, nil
	}
	return nil, fmt.Errorf("unknown output format %q (want human, json, markdown or github)", format)
}

// HealthDocument is the JSON document `healthcheck -o json` prints
// (docs/healthcheck.md): the verdict over every cluster and one report each.
type HealthDocument struct {
	APIVersion string                `json:"apiVersion"`
	Status     healthcheck.Status    `json:"status"`
	Reports    []*healthcheck.Report `json:"reports"`
}

// HealthVerdict is the worst status of the reports (PASS for none).
func HealthVerdict(reports []*healthcheck.Report) healthcheck.Status {
	v := healthcheck.Pass
	for _, r := range reports {
		if r.Status.Worse(v) {
			v = r.Status
		}
	}
	return v
}

// HealthSummaryLine counts a report's checks: "FAIL: 2 FAIL, 1 WARN, 9 PASS, 2 SKIP".
func HealthSummaryLine(r *healthcheck.Report) string {
	n := r.Counts()
	var parts []string
	for _, s := range []healthcheck.Status{healthcheck.Fail, healthcheck.Unknown, healthcheck.Warn, healthcheck.Pass, healthcheck.Skip} {
		if n[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[s], s))
		}
	}
	return fmt.Sprintf("%s: %s", r.Status, strings.Join(parts, ", "))
}

type jsonHealth struct{}

func (jsonHealth) Render(w io.Writer, reports []*healthcheck.Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(HealthDocument{APIVersion: healthcheck.APIVersion, Status: HealthVerdict(reports), Reports: reports})
}

type humanHealth struct{ color bool }

func (h humanHealth) Render(w io.Writer, reports []*healthcheck.Report) error {
	st := newStyles(w, h.color)
	mark := func(s healthcheck.Status) string {
		label := fmt.Sprintf("%-7s", s)
		switch s {
		case healthcheck.Pass:
			return st.add(label)
		case healthcheck.Warn:
			return st.change(label)
		case healthcheck.Fail, healthcheck.Unknown:
			return st.refusal(label)
		}
		return st.dim(label)
	}
	var b strings.Builder
	for i, r := range reports {
		if i > 0 {
			b.WriteString("\n")
		}
		title := "Cluster " + r.Cluster
		if r.File != "" {
			title += " (" + r.File + ")"
		}
		fmt.Fprintf(&b, "%s\n", st.header(title))
		for _, c := range r.Checks {
			fmt.Fprintf(&b, "  %s %s: %s\n", mark(c.Status), c.Title, c.Summary)
			if c.Status == healthcheck.Pass || c.Status == healthcheck.Skip {
				continue
			}
			for _, e := range c.Evidence {
				fmt.Fprintf(&b, "          %s\n", st.dim("· "+e))
			}
			if c.Fix != "" {
				fmt.Fprintf(&b, "          fix: %s\n", c.Fix)
			}
		}
		fmt.Fprintf(&b, "%s\n", HealthSummaryLine(r))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

type markdownHealth struct{}

func (markdownHealth) Render(w io.Writer, reports []*healthcheck.Report) error {
	var b strings.Builder
	for i, r := range reports {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "### Health of `%s`: %s\n\n", r.Cluster, HealthSummaryLine(r))
		b.WriteString("| status | check | found | fix |\n|---|---|---|---|\n")
		for _, c := range r.Checks {
			found := mdCell(c.Summary)
			if c.Status != healthcheck.Pass && c.Status != healthcheck.Skip && len(c.Evidence) > 0 {
				found += "<br>" + mdCell(strings.Join(c.Evidence, "; "))
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", c.Status, mdCell(c.Title), found, mdCell(c.Fix))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func mdCell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

// githubHealth prints workflow commands: an error annotation per FAIL or
// UNKNOWN check, a warning per WARN, pointing at the cluster file.
type githubHealth struct{}

func (githubHealth) Render(w io.Writer, reports []*healthcheck.Report) error {
	var b strings.Builder
	for _, r := range reports {
		for _, c := range r.Checks {
			level := ""
			switch c.Status {
			case healthcheck.Fail, healthcheck.Unknown:
				level = "error"
			case healthcheck.Warn:
				level = "warning"
			default:
				continue
			}
			msg := c.Summary
			if len(c.Evidence) > 0 {
				msg += ": " + strings.Join(c.Evidence, "; ")
			}
			if c.Fix != "" {
				msg += ". Fix: " + c.Fix
			}
			props := "title=" + ghEscapeProp(fmt.Sprintf("%s %s (%s)", r.Cluster, c.Title, c.ID))
			if r.File != "" {
				props = "file=" + ghEscapeProp(r.File) + "," + props
			}
			fmt.Fprintf(&b, "::%s %s::%s\n", level, props, ghEscape(msg))
		}
		fmt.Fprintf(&b, "%s %s\n", r.Cluster, HealthSummaryLine(r))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
