package drill

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func sampleReport() *Report {
	start := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	r := &Report{
		Cluster: "prod", Namespace: "graphs", ScratchNamespace: "prod-drill", Started: start,
		Healthy:    start.Add(95 * time.Second),
		Objectives: Objectives{RTO: Duration(time.Minute), RPO: Duration(time.Hour)},
		Points:     []Point{{Database: "movies", Newest: "prod/movies/x", RPO: Duration(30 * time.Minute), Available: true}},
		Steps: []Step{
			{Name: "apply graphs/prod", Took: Duration(40 * time.Second), Simulated: "kwok"},
			{Name: "restore movies", Took: Duration(50 * time.Second), Error: "a | b"},
		},
		Counts: []Count{{Database: "movies", Restored: "prod/movies/x", Nodes: 171}},
	}
	r.Evaluate()
	return r
}

// TestRender: every format carries RTO, RPO, the objectives, the verdict
// and the simulated marks; JSON is the report as data.
func TestRender(t *testing.T) {
	r := sampleReport()
	if r.Met() {
		t.Fatal("an RTO of 1m35s met an objective of 1m")
	}
	var text, md, js bytes.Buffer
	for f, w := range map[string]*bytes.Buffer{FormatText: &text, FormatMarkdown: &md, FormatJSON: &js} {
		if err := Render(w, r, f); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []string{"RTO achieved: 1m35s (objective 1m0s)", "RPO of movies: 30m0s (newest restorable prod/movies/x; objective 1h0m0s)", "[simulated: kwok]", "SIMULATED:", "Drill: OBJECTIVE MISSED", "missed: RTO: 1m35s achieved, objective 1m0s", "movies               171 nodes"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}
	for _, want := range []string{"| RTO | 1m35s | 1m0s |", "| RPO movies | 30m0s (`prod/movies/x`) | 1h0m0s |", "| apply graphs/prod | 40s | ok | kwok |", `failed: a \| b`, "> **Simulated**"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}
	var doc map[string]any
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["met"] != false || doc["simulated"] != true || doc["format_version"] != "1" {
		t.Errorf("json: %s", js.String())
	}
	if rto := doc["rto"].(map[string]any); rto["milliseconds"] != float64(95000) {
		t.Errorf("json rto: %v", rto)
	}
	if err := Render(&text, r, "yaml"); err == nil {
		t.Error("an unknown format rendered")
	}
}
