package views

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/neo4jctl/neo4jctl/drift"
	"github.com/neo4jctl/neo4jctl/plan"
)

// DriftView renders the drift reports of one run (one per cluster file).
type DriftView interface {
	Render(w io.Writer, reports []*drift.Report) error
}

// Drift output formats besides FormatJSON and FormatMarkdown.
const (
	FormatText   = "text"
	FormatGitHub = "github"
)

// NewDriftView returns the view for format: text (or human), json, markdown
// or github. color applies to text only.
func NewDriftView(format string, color bool) (DriftView, error) {
	switch format {
	case FormatText, FormatHuman, "":
		return redactedDrift{textDrift{color: color}}, nil
	case FormatJSON:
		return redactedDrift{jsonDrift{}}, nil
	case FormatMarkdown:
		return redactedDrift{markdownDrift{}}, nil
	case FormatGitHub:
		return redactedDrift{githubDrift{}}, nil
	}
	return nil, fmt.Errorf("unknown output format %q (want text, json, markdown or github)", format)
}

// redactedDrift hides credentials inside every value and message of the
// reports before a view sees them. A report's Kubernetes values arrive
// redacted from the plan, but its Neo4j settings are the servers' live
// values and its messages quote them: every format (and
// $GITHUB_STEP_SUMMARY, written from the markdown view) goes through here.
type redactedDrift struct{ DriftView }

func (v redactedDrift) Render(w io.Writer, reports []*drift.Report) error {
	return v.DriftView.Render(w, redactReports(reports))
}

// redactReports returns copies of the reports with plan.RedactText applied
// to every value, message, reason and warning.
func redactReports(reports []*drift.Report) []*drift.Report {
	if reports == nil {
		return nil
	}
	out := make([]*drift.Report, len(reports))
	for i, r := range reports {
		c := *r
		c.ModeReason = plan.RedactText(r.ModeReason)
		c.Findings = slices.Clone(r.Findings)
		for j := range c.Findings {
			f := &c.Findings[j]
			f.Live, f.Desired = plan.RedactValue(f.Live), plan.RedactValue(f.Desired)
			f.Message = plan.RedactText(f.Message)
		}
		c.Violations = slices.Clone(r.Violations)
		for j := range c.Violations {
			pv := &c.Violations[j]
			pv.Value, pv.Message = plan.RedactValue(pv.Value), plan.RedactText(pv.Message)
		}
		c.Unknown = slices.Clone(r.Unknown)
		for j := range c.Unknown {
			c.Unknown[j].Reason = plan.RedactText(c.Unknown[j].Reason)
		}
		c.Warnings = slices.Clone(r.Warnings)
		for j := range c.Warnings {
			c.Warnings[j] = plan.RedactText(c.Warnings[j])
		}
		out[i] = &c
	}
	return out
}

// NoDrift is the summary line of a report with nothing to report; scripts
// grep it.
const NoDrift = "No drift. The cluster matches the cluster file."

// DriftSummaryLine is the frozen one-line summary of a report:
// "Drift: 3 differences (2 Kubernetes, 1 Neo4j), 1 policy violation." or
// NoDrift. An incomplete report never reads NoDrift.
func DriftSummaryLine(r *drift.Report) string {
	s := r.Summary
	n := s.Kubernetes + s.Neo4j
	if n == 0 && s.Violations == 0 {
		if r.Incomplete {
			return "Drift unknown: a plane could not be observed."
		}
		return NoDrift
	}
	line := fmt.Sprintf("Drift: %d %s (%d Kubernetes, %d Neo4j), %d policy %s.", n, plural(n, "difference", "differences"),
		s.Kubernetes, s.Neo4j, s.Violations, plural(s.Violations, "violation", "violations"))
	if r.Incomplete {
		line += " Incomplete: a plane could not be observed."
	}
	return line
}

// modeLine says how the Kubernetes plane was compared.
func modeLine(r *drift.Report) string {
	l := "Kubernetes compared by " + orDash(r.Mode)
	if r.ModeReason != "" {
		l += ": " + r.ModeReason
	}
	return l + "."
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func marker(k drift.FindingKind) string {
	switch k {
	case drift.Missing:
		return "+"
	case drift.Extra:
		return "-"
	case drift.Unhealthy:
		return "!"
	}
	return "~"
}

type jsonDrift struct{}

// jsonDocument is the JSON form of a run: one report per cluster file
// (docs/drift.md).
type jsonDocument struct {
	FormatVersion string          `json:"format_version"`
	InSync        bool            `json:"in_sync"`
	Reports       []*drift.Report `json:"reports"`
}

func (jsonDrift) Render(w io.Writer, reports []*drift.Report) error {
	doc := jsonDocument{FormatVersion: drift.FormatVersion, InSync: true, Reports: reports}
	if doc.Reports == nil {
		doc.Reports = []*drift.Report{}
	}
	for _, r := range reports {
		if !r.InSync() || r.Incomplete {
			doc.InSync = false
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

type textDrift struct{ color bool }

func (v textDrift) Render(w io.Writer, reports []*drift.Report) error {
	bw := bufio.NewWriter(w)
	st := newStyles(w, v.color)
	for i, r := range reports {
		if i > 0 {
			fmt.Fprintln(bw)
		}
		fmt.Fprintf(bw, "%s\n", st.header(fmt.Sprintf("Drift of %s (%s)", r.Name(), orDash(r.File))))
		fmt.Fprintf(bw, "%s\n", st.dim(modeLine(r)))
		for _, u := range r.Unknown {
			fmt.Fprintf(bw, "%s\n", st.refusal(fmt.Sprintf("The %s plane could not be observed: %s", planeName(u.Plane), u.Reason)))
		}
		last := ""
		for _, f := range r.Findings {
			if f.Address != last {
				fmt.Fprintf(bw, "\n%s\n", f.Address)
				last = f.Address
			}
			style := st.change
			switch f.Kind {
			case drift.Missing:
				style = st.add
			case drift.Extra, drift.Unhealthy:
				style = st.destroy
			}
			fmt.Fprintf(bw, "  %s %s  [%s]\n", style(marker(f.Kind)), f.Message, f.Severity)
		}
		if len(r.Violations) > 0 {
			fmt.Fprintf(bw, "\n%s\n", st.header("Policy violations"))
			for _, pv := range r.Violations {
				fmt.Fprintf(bw, "  [%s] %s (%s): %s: %s\n", pv.Severity, pv.Rule, ruleLocation(pv), pv.Target(), pv.Message)
			}
		}
		for _, wn := range r.Warnings {
			fmt.Fprintf(bw, "\nWarning: %s\n", wn)
		}
		fmt.Fprintf(bw, "\n%s\n", st.header(DriftSummaryLine(r)))
	}
	return bw.Flush()
}

func ruleLocation(v drift.Violation) string {
	loc := v.RulePath
	if v.File != "" {
		loc = filepath.Base(v.File)
		if v.Line > 0 {
			loc += fmt.Sprintf(":%d", v.Line)
		}
	}
	return loc
}

type markdownDrift struct{}

// Render writes a summary for a pull request or $GITHUB_STEP_SUMMARY: the
// summary line, how it was compared, a table of differences and one of
// violations.
func (markdownDrift) Render(w io.Writer, reports []*drift.Report) error {
	bw := bufio.NewWriter(w)
	pr := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	for i, r := range reports {
		if i > 0 {
			pr("\n")
		}
		pr("### neo4jctl drift — `%s`\n\n**%s**\n\n%s\n\n", r.Name(), DriftSummaryLine(r), cell(modeLine(r)))
		for _, u := range r.Unknown {
			pr("> [!WARNING]\n> The %s plane could not be observed: %s. This report is incomplete.\n\n", planeName(u.Plane), cell(u.Reason))
		}
		if len(r.Findings) > 0 {
			pr("| | Address | Field | Live | Cluster file | Changed by | Severity |\n|:-:|---|---|---|---|---|---|\n")
			for _, f := range r.Findings {
				field := code(f.Field)
				if f.Field == "" {
					field = cell(f.Message)
				}
				pr("| `%s` | `%s` | %s | %s | %s | %s | %s |\n", marker(f.Kind), cell(f.Address), field,
					code(driftValue(f.Live)), code(driftValue(f.Desired)), cell(f.Manager), f.Severity)
			}
			pr("\n")
		}
		if len(r.Violations) > 0 {
			pr("#### Policy violations\n\n| Severity | Rule | Address | Field | Problem |\n|---|---|---|---|---|\n")
			for _, v := range r.Violations {
				pr("| %s | %s | `%s` | %s | %s |\n", v.Severity, cell(v.Rule), cell(v.Address), code(v.Field), cell(v.Message))
			}
			pr("\n")
		}
		for _, wn := range r.Warnings {
			pr("- :warning: %s\n", cell(wn))
		}
		if len(r.Warnings) > 0 {
			pr("\n")
		}
	}
	return bw.Flush()
}

func code(s string) string {
	if s == "" {
		return ""
	}
	return "`" + strings.ReplaceAll(cell(s), "`", "'") + "`"
}

// driftValue renders a finding's value for a table cell.
func driftValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	s := string(b)
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}

type githubDrift struct{}

// Render writes GitHub Actions workflow commands: one annotation per
// finding and violation at the cluster-file (or policy-file) line that
// declares what drifted, ::error for error and critical, ::warning for
// warning, ::notice for info; then the summary line as plain text.
func (githubDrift) Render(w io.Writer, reports []*drift.Report) error {
	bw := bufio.NewWriter(w)
	for _, r := range reports {
		for _, u := range r.Unknown {
			fmt.Fprintf(bw, "::error %s::%s\n", ghProps(r.File, 0, "drift "+r.Name()),
				ghEscape(fmt.Sprintf("The %s plane could not be observed: %s", planeName(u.Plane), u.Reason)))
		}
		for _, f := range r.Findings {
			fmt.Fprintf(bw, "::%s %s::%s\n", ghLevel(f.Severity), ghProps(r.File, f.Line, "drift "+f.Address), ghEscape(f.Message))
		}
		for _, v := range r.Violations {
			file := v.File
			if file == "" {
				file = r.File
			}
			fmt.Fprintf(bw, "::%s %s::%s\n", ghLevel(v.Severity), ghProps(file, v.Line, "policy "+v.Rule),
				ghEscape(fmt.Sprintf("%s: %s", v.Target(), v.Message)))
		}
		fmt.Fprintf(bw, "%s: %s %s\n", r.Name(), DriftSummaryLine(r), modeLine(r))
	}
	return bw.Flush()
}

func ghLevel(s drift.Severity) string {
	switch s {
	case drift.SeverityInfo:
		return "notice"
	case drift.SeverityWarning:
		return "warning"
	}
	return "error"
}

func ghProps(file string, line int, title string) string {
	var p []string
	if file != "" {
		p = append(p, "file="+ghEscapeProp(file))
		if line > 0 {
			p = append(p, fmt.Sprintf("line=%d", line))
		}
	}
	p = append(p, "title="+ghEscapeProp(title))
	return strings.Join(p, ",")
}

// ghEscape escapes a workflow command's message as the runner expects.
func ghEscape(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// ghEscapeProp escapes a property value, where ':' and ',' also delimit.
func ghEscapeProp(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
