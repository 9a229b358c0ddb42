package views

import (
	"bytes"
	"strings"
	"testing"

	"github.com/neo4jctl/neo4jctl/healthcheck"
)

// status prints the newest DR drill: when, its verdict, RTO and RPO
// against their objectives, what it missed; nothing when none recorded.
func TestStatusViewDrill(t *testing.T) {
	o := &healthcheck.Overview{Cluster: "graph/prod", Edition: "enterprise", Health: healthReport(),
		Drill: &healthcheck.DrillOverview{Started: "2026-12-07T05:00:00Z", Age: "3h0m0s", Result: "failed",
			Figures: "RTO 14m0s (objective 10m0s), RPO 35m0s (objective 1h0m0s)", Missed: []string{"RTO: 14m0s achieved, objective 10m0s"}, Simulated: true}}
	v, _ := NewStatusView(FormatHuman, false)
	var b bytes.Buffer
	if err := v.Render(&b, []*healthcheck.Overview{o}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"\nLast DR drill: 2026-12-07T05:00:00Z (3h0m0s ago), FAILED, RTO 14m0s (objective 10m0s), RPO 35m0s (objective 1h0m0s) [simulated]\n",
		"  missed: RTO: 14m0s achieved, objective 10m0s\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("got\n%s\nwant it to contain %q", b.String(), want)
		}
	}
	o.Drill = nil
	b.Reset()
	if err := v.Render(&b, []*healthcheck.Overview{o}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "DR drill") {
		t.Errorf("a drill line without a drill:\n%s", b.String())
	}
}
