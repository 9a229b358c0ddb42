package views

import (
	"fmt"
	"strings"

	"github.com/neo4jctl/neo4jctl/healthcheck"
)

// renderDrill writes status's line about the newest DR drill (issue 16:
// "status shows … achieved RTO/RPO"): when it ran, its verdict, and RTO
// and RPO against their objectives. Nothing when no drill is recorded.
func renderDrill(b *strings.Builder, st styles, d *healthcheck.DrillOverview) {
	if d == nil {
		return
	}
	result := st.add(d.Result)
	if d.Result != "passed" {
		result = st.refusal(strings.ToUpper(d.Result))
	}
	fmt.Fprintf(b, "\nLast DR drill: %s (%s ago), %s, %s", d.Started, d.Age, result, d.Figures)
	if d.Simulated {
		b.WriteString(" [simulated]")
	}
	b.WriteString("\n")
	for _, m := range d.Missed {
		fmt.Fprintf(b, "  missed: %s\n", m)
	}
}
