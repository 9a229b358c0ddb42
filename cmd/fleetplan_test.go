package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/neo4jctl/neo4jctl/e2e/testenv"
)

// TestFleetSavedPlans: plan --out DIR of a fleet saves one plan per
// cluster and prints the command that applies them; apply DIR -f ...
// applies them together without --auto-approve, each checked against a
// fresh plan: one edited plan is refused, and its cluster only. The
// fleet's plan ends with a fleet summary line, and its -o json is one
// document.
func TestFleetSavedPlans(t *testing.T) {
	env := testenv.Shared(t)
	cs, err := env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	dir := t.TempDir()
	base := testenv.Namespace(t, env)
	var nss []string
	for i := range 2 {
		ns := fmt.Sprintf("%s-%d", base, i)
		nss = append(nss, ns)
		if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cs.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{}) })
		file, _ := quickstart(t, ns)
		b, _ := os.ReadFile(file)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("c%d.yaml", i)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// -o json of a fleet is one document with a summary.
	code, stdout, stderr := runApplyCLI(t, env, "plan", "-f", dir, "--skip-neo4j", "-o", "json")
	if code != 0 {
		t.Fatalf("plan -o json: exit %d\n%s", code, stderr)
	}
	var doc struct {
		Fleet   bool `json:"fleet"`
		Summary struct {
			Clusters    int `json:"clusters"`
			WithChanges int `json:"with_changes"`
			Add         int `json:"add"`
		} `json:"summary"`
		Plans []struct {
			Namespace string          `json:"namespace"`
			Plan      json.RawMessage `json:"plan"`
		} `json:"plans"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("plan -o json of a fleet is not one JSON document: %v\n%s", err, stdout)
	}
	if !doc.Fleet || doc.Summary.Clusters != 2 || doc.Summary.WithChanges != 2 || doc.Summary.Add != 20 || len(doc.Plans) != 2 || doc.Plans[1].Namespace != nss[1] {
		t.Errorf("fleet document: got %+v", doc)
	}

	plans := filepath.Join(t.TempDir(), "plans")
	code, stdout, stderr = runApplyCLI(t, env, "plan", "-f", dir, "--skip-neo4j", "--out", plans)
	if code != 0 {
		t.Fatalf("plan --out DIR: exit %d\n%s", code, stderr)
	}
	if want := "Fleet: 2 clusters, 2 with changes, 0 not applicable, 0 failed. Plan: 20 to add, 0 to change, 0 to destroy, 0 Neo4j steps."; !strings.Contains(stdout, want) {
		t.Errorf("stdout lacks the fleet summary line %q:\n%s", want, stdout)
	}
	if want := "neo4jctl apply " + plans + " -f " + dir + " --skip-neo4j"; !strings.Contains(stderr, want) {
		t.Errorf("stderr lacks the apply command %q:\n%s", want, stderr)
	}
	for _, ns := range nss {
		if _, err := os.Stat(filepath.Join(plans, ns+"_quickstart.json")); err != nil {
			t.Errorf("no saved plan for %s: %v", ns, err)
		}
	}

	// The second cluster's plan loses its last step: refused, the first
	// cluster is applied.
	edited := filepath.Join(plans, nss[1]+"_quickstart.json")
	b, _ := os.ReadFile(edited)
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	steps := raw["steps"].([]any)
	raw["steps"] = steps[:len(steps)-1]
	b, _ = json.Marshal(raw)
	if err := os.WriteFile(edited, b, 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = runApplyCLI(t, env, "apply", plans, "-f", dir, "--skip-neo4j", "--wait=false")
	if code != ExitError || !strings.Contains(stderr, "1 of 2 clusters failed to apply") || !strings.Contains(stderr, "does not match what a fresh plan would do") {
		t.Errorf("apply of the fleet's plans with one edited: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if _, err := cs.AppsV1().StatefulSets(nss[0]).Get(ctx, "quickstart", metav1.GetOptions{}); err != nil {
		t.Errorf("the first cluster's saved plan was not applied: %v", err)
	}
	if _, err := cs.CoreV1().ServiceAccounts(nss[1]).Get(ctx, "quickstart", metav1.GetOptions{}); err == nil {
		t.Errorf("the edited plan's cluster was applied")
	}

	// A plan for a cluster no file declares, or a cluster without a plan:
	// nothing is applied.
	if err := os.Remove(edited); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runApplyCLI(t, env, "apply", plans, "-f", dir, "--skip-neo4j"); code != ExitError || !strings.Contains(stderr, "has no saved plan") {
		t.Errorf("apply with a cluster without a saved plan: exit %d\n%s", code, stderr)
	}
}
