package views

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/neo4jctl/neo4jctl/healthcheck"
)

// StatusView renders `neo4jctl status`: one screen per cluster.
type StatusView interface {
	Render(w io.Writer, overviews []*healthcheck.Overview) error
}

// NewStatusView returns the view for format: human or json.
func NewStatusView(format string, color bool) (StatusView, error) {
	switch format {
	case FormatHuman, FormatText, "":
		return humanStatus{color: color}, nil
	case FormatJSON:
		return jsonStatus{}, nil
	}
	return nil, fmt.Errorf("unknown output format %q (want human or json)", format)
}

// StatusDocument is the JSON document `status -o json` prints; each
// cluster's health is healthcheck's Report.
type StatusDocument struct {
	APIVersion string                  `json:"apiVersion"`
	Clusters   []*healthcheck.Overview `json:"clusters"`
}

type jsonStatus struct{}

func (jsonStatus) Render(w io.Writer, overviews []*healthcheck.Overview) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(StatusDocument{APIVersion: healthcheck.StatusAPIVersion, Clusters: overviews})
}

type humanStatus struct{ color bool }

func (h humanStatus) Render(w io.Writer, overviews []*healthcheck.Overview) error {
	st := newStyles(w, h.color)
	var b strings.Builder
	for i, o := range overviews {
		if i > 0 {
			b.WriteString("\n")
		}
		version := o.Version
		if version == "" {
			version = "unknown"
		}
		fmt.Fprintf(&b, "%s\n", st.header("Cluster "+o.Cluster))
		fmt.Fprintf(&b, "Edition: %s   Version: %s\n", o.Edition, version)
		if o.PDB != "" {
			fmt.Fprintf(&b, "Disruption budget: %s\n", o.PDB)
		}
		if o.Certificate != "" {
			fmt.Fprintf(&b, "Certificate: %s\n", o.Certificate)
		}
		verdict := string(o.Health.Status)
		switch o.Health.Status {
		case healthcheck.Pass:
			verdict = st.add(verdict)
		case healthcheck.Warn:
			verdict = st.change(verdict)
		default:
			verdict = st.refusal(verdict)
		}
		fmt.Fprintf(&b, "Health: %s (%s)\n", verdict, strings.SplitN(HealthSummaryLine(o.Health), ": ", 2)[1])

		b.WriteString("\n" + st.header("Servers") + "\n")
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "POD\tNODE\tREADY\tRESTARTS\tAGE\tSERVER\tSTATE\tHEALTH\tHOSTING")
		for _, s := range o.Servers {
			fmt.Fprintf(tw, "%s\t%s\t%v\t%d\t%s\t%s\t%s\t%s\t%s\n", s.Pod, statusDash(s.Node), s.Ready, s.Restarts, statusDash(s.Age),
				statusDash(s.Server), statusDash(s.State), statusDash(s.Health), statusDash(strings.Join(s.Hosting, ",")))
		}
		tw.Flush()

		b.WriteString("\n" + st.header("Databases") + "\n")
		tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "DATABASE\tASKED\tREQUESTED\tONLINE\tWRITER\tALLOCATIONS")
		for _, d := range o.Databases {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", d.Name, statusDash(d.Asked), d.Requested, d.Online, statusDash(d.Writer), strings.Join(d.Allocations, "; "))
		}
		tw.Flush()
		renderRecovery(&b, st, o.Recovery)
		renderDrill(&b, st, o.Drill)

		var bad []string
		for _, c := range o.Health.Checks {
			if c.Status == healthcheck.Fail || c.Status == healthcheck.Unknown || c.Status == healthcheck.Warn {
				bad = append(bad, fmt.Sprintf("  %-7s %s: %s", c.Status, c.Title, c.Summary))
			}
		}
		if len(bad) > 0 {
			b.WriteString("\n" + st.header("Problems") + " (neo4jctl healthcheck shows the evidence and the fix)\n")
			b.WriteString(strings.Join(bad, "\n") + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func statusDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
