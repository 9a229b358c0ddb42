package views

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/neo4jctl/neo4jctl/backup/catalog"
	"github.com/neo4jctl/neo4jctl/backup/restore"
)

func restorePlan() *restore.Plan {
	t0 := time.Date(2026, 12, 7, 2, 0, 0, 0, time.UTC)
	full := catalog.Entry{ID: "prod/sales/20261207T020000Z-full-ab12", File: "sales-2026-12-07T02-00-00.backup", Type: catalog.Full, Created: t0}
	diff := catalog.Entry{ID: "prod/sales/20261207T080000Z-diff-cd34", File: "sales-2026-12-07T08-00-00.backup", Type: catalog.Diff, Created: t0.Add(6 * time.Hour)}
	until := t0.Add(3 * time.Hour)
	return &restore.Plan{
		FormatVersion: restore.FormatVersion, Cluster: "prod", Namespace: "graphs", Edition: "enterprise",
		Database: "sales", Into: "sales-0500", Action: restore.ActionCreate, Kind: restore.KindClusterSeed,
		Point: restore.Point{Chain: []catalog.Entry{full, diff}, RestoreUntil: until, RestoredTo: until,
			Passed: []restore.Passed{{ID: "prod/sales/20261207T140000Z-diff-ef56", Reason: "gap: transactions 41..44 are in no catalogued backup"}}},
		Artifacts: []restore.Artifact{{ID: full.ID, File: full.File, Type: full.Type, Created: full.Created, Verified: "passed"}, {ID: diff.ID, File: diff.File, Type: diff.Type, Created: diff.Created}},
		Window:    restore.LossWindow{From: until, To: until, Exact: true, Description: "restored exactly to 2026-12-07T05:00:00Z"},
		Steps: []restore.Step{{Kind: restore.StepCreate, Address: "neo4j:database/sales-0500", Action: "+", Detail: "CREATE DATABASE sales-0500"},
			{Kind: restore.StepRecreate, Address: "neo4j:database/sales", Action: "!", Detail: "recreate"}},
		Notes: []string{"Users and roles are not restored."},
	}
}

func TestRestoreViewHuman(t *testing.T) {
	v, err := NewRestoreView(FormatHuman, &bytes.Buffer{}, false)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := v.Plan(&out, restorePlan()); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{
		"Restore plan for cluster graphs/prod (enterprise): a new database sales-0500 from backups of sales",
		"<= prod/sales/20261207T020000Z-full-ab12  FULL  2026-12-07T02:00:00Z  sales-2026-12-07T02-00-00.backup  verification passed",
		"prod/sales/20261207T080000Z-diff-cd34  DIFF  2026-12-07T08:00:00Z  sales-2026-12-07T08-00-00.backup  never verified",
		"cut with --restore-until=2026-12-07 05:00:00",
		"skipped prod/sales/20261207T140000Z-diff-ef56: gap",
		"Data-loss window\n  restored exactly to 2026-12-07T05:00:00Z",
		"  1. + neo4j:database/sales-0500\n     CREATE DATABASE sales-0500",
		"  2. ! neo4j:database/sales",
		"Note: Users and roles are not restored.",
		"Restore: create sales-0500 from 2 artifact(s), restored to 2026-12-07T05:00:00Z.",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("human plan lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "\x1b[") {
		t.Error("colour off, yet escape codes")
	}
}

func TestRestoreViewJSON(t *testing.T) {
	v, err := NewRestoreView(FormatJSON, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := v.Plan(&out, restorePlan()); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		FormatVersion string `json:"format_version"`
		Point         struct {
			RestoreUntil time.Time `json:"restoreUntil"`
			Chain        []struct {
				ID string `json:"id"`
			} `json:"chain"`
		} `json:"point"`
		LossWindow struct {
			Exact bool `json:"exact"`
		} `json:"lossWindow"`
		Steps []struct {
			Kind string `json:"kind"`
		} `json:"steps"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if doc.FormatVersion != "1" || len(doc.Point.Chain) != 2 || doc.Point.RestoreUntil.IsZero() || !doc.LossWindow.Exact || len(doc.Steps) != 2 || doc.Steps[0].Kind != "create" {
		t.Errorf("json plan: %+v", doc)
	}
	if _, err := NewRestoreView("yaml", nil, false); err == nil {
		t.Error("unknown format accepted")
	}
}

// TestRestoreViewHumanNamesSourceAndTarget: a restore of another
// cluster's backups, from a copy, says which cluster is written and which
// is only read; an in-place one prints neither line.
func TestRestoreViewHumanNamesSourceAndTarget(t *testing.T) {
	v, _ := NewRestoreView(FormatHuman, &bytes.Buffer{}, false)
	p := restorePlan()
	p.Cluster, p.Namespace, p.Context = "prod-dr", "dr", "kind-dr"
	p.Source = restore.Source{Cluster: "prod", Namespace: "graphs", File: "prod.yaml", Storage: "s3://dr-eu/neo4j?region=eu-west-1"}
	p.Point.Location = "s3://dr-eu/neo4j?region=eu-west-1"
	var out bytes.Buffer
	if err := v.Plan(&out, p); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Restore plan for cluster dr/prod-dr (enterprise)",
		"  Target: dr/prod-dr in context kind-dr: restored into\n",
		"  Source: graphs/prod (prod.yaml): read only, from s3://dr-eu/neo4j?region=eu-west-1\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("human plan lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if err := v.Plan(&out, restorePlan()); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "Source:") || strings.Contains(out.String(), "Target:") {
		t.Errorf("an in-place plan names a source and a target:\n%s", out.String())
	}
}
