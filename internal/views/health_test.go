package views

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/neo4jctl/neo4jctl/healthcheck"
)

func healthReport() *healthcheck.Report {
	return &healthcheck.Report{
		APIVersion: healthcheck.APIVersion, Cluster: "graph/prod", File: "prod.yaml",
		ObservedAt: time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC), Status: healthcheck.Fail,
		Checks: []healthcheck.Check{
			{ID: healthcheck.IDPods, Title: "Pods Ready", Status: healthcheck.Pass, Summary: "3 of 3 Pods Ready"},
			{ID: healthcheck.IDServers, Title: "Servers Enabled and Available", Status: healthcheck.Fail,
				Summary: "2 of 3 servers Enabled and Available", Evidence: []string{"prod-2: server s2 Cordoned, Available, hosting movies,system"},
				Fix: "ENABLE SERVER 's2'"},
			{ID: healthcheck.IDEvents, Title: "Warning events (last hour)", Status: healthcheck.Warn, Summary: "1 Warning event", Evidence: []string{"Pod/prod-1 BackOff ×2"}, Fix: "kubectl get events"},
			{ID: healthcheck.IDTLS, Title: "TLS certificate expiry", Status: healthcheck.Skip, Summary: "TLS is off"},
		},
	}
}

func TestHealthViews(t *testing.T) {
	for _, tc := range []struct {
		format string
		want   []string
		not    []string
	}{
		{FormatHuman, []string{
			"Cluster graph/prod (prod.yaml)\n",
			"  PASS    Pods Ready: 3 of 3 Pods Ready\n",
			"  FAIL    Servers Enabled and Available: 2 of 3 servers Enabled and Available\n          · prod-2: server s2 Cordoned, Available, hosting movies,system\n          fix: ENABLE SERVER 's2'\n",
			"  SKIP    TLS certificate expiry: TLS is off\n",
			"FAIL: 1 FAIL, 1 WARN, 1 PASS, 1 SKIP\n",
		}, []string{"\x1b["}},
		{FormatMarkdown, []string{"### Health of `graph/prod`: FAIL", "| FAIL | Servers Enabled and Available | 2 of 3 servers Enabled and Available<br>prod-2: server s2 Cordoned"}, nil},
		{FormatGitHub, []string{
			"::error file=prod.yaml,title=graph/prod Servers Enabled and Available (neo4j.servers)::2 of 3 servers Enabled and Available: prod-2: server s2 Cordoned, Available, hosting movies,system. Fix: ENABLE SERVER 's2'\n",
			"::warning file=prod.yaml,title=graph/prod Warning events (last hour) (kubernetes.events)::",
		}, []string{"Pods Ready", "TLS certificate"}},
	} {
		t.Run(tc.format, func(t *testing.T) {
			v, err := NewHealthView(tc.format, false)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := v.Render(&b, []*healthcheck.Report{healthReport()}); err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("got\n%s\nwant it to contain %q", b.String(), w)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(b.String(), n) {
					t.Errorf("got\n%s\nwant no %q", b.String(), n)
				}
			}
		})
	}
}

func TestHealthJSON(t *testing.T) {
	v, _ := NewHealthView(FormatJSON, false)
	var b bytes.Buffer
	if err := v.Render(&b, []*healthcheck.Report{healthReport()}); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["apiVersion"] != healthcheck.APIVersion || doc["status"] != "FAIL" {
		t.Errorf("got apiVersion %v status %v", doc["apiVersion"], doc["status"])
	}
	checks := doc["reports"].([]any)[0].(map[string]any)["checks"].([]any)
	c := checks[1].(map[string]any)
	for _, k := range []string{"id", "title", "status", "summary", "evidence", "fix"} {
		if _, ok := c[k]; !ok {
			t.Errorf("check JSON lacks %q: %v", k, c)
		}
	}
}

func TestStatusView(t *testing.T) {
	o := &healthcheck.Overview{
		Cluster: "graph/prod", Edition: "enterprise", Version: "5.26.0", PDB: "0 disruptions allowed",
		Servers: []healthcheck.ServerOverview{
			{Pod: "prod-0", Node: "node-a", Ready: true, Age: "3h0m", Server: "s0", State: "Enabled", Health: "Available", Hosting: []string{"movies", "system"}},
			{Pod: "prod-1", Ready: false},
		},
		Databases: []healthcheck.DatabaseOverview{{Name: "movies", Asked: "3p/0s", Requested: "3p/0s", Online: "2p/0s", Writer: "s0",
			Allocations: []string{"s0: primary online", "s2: primary store copying"}}},
		Health: healthReport(),
	}
	v, err := NewStatusView(FormatHuman, false)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := v.Render(&b, []*healthcheck.Overview{o}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Cluster graph/prod\nEdition: enterprise   Version: 5.26.0\nDisruption budget: 0 disruptions allowed\nHealth: FAIL (1 FAIL, 1 WARN, 1 PASS, 1 SKIP)\n",
		"POD     NODE    READY  RESTARTS  AGE   SERVER  STATE    HEALTH     HOSTING\n",
		"prod-0  node-a  true   0         3h0m  s0      Enabled  Available  movies,system\n",
		"prod-1  -       false  0         -     -       -        -          -\n",
		"movies    3p/0s  3p/0s      2p/0s   s0      s0: primary online; s2: primary store copying\n",
		"  FAIL    Servers Enabled and Available: 2 of 3 servers Enabled and Available\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("got\n%s\nwant it to contain %q", b.String(), want)
		}
	}
	if _, err := NewStatusView("markdown", false); err == nil {
		t.Error("markdown: got no error")
	}
}
