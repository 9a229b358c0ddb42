package cmd

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/neo4jctl/neo4jctl/e2e/testenv"
)

// TestApplySavedPlanRefusesForgedStep reproduces issue 12 item 1 on the
// real control plane: a saved plan of an applied cluster (no changes) with
// a step appended that deletes the client Service, its freshness record
// untouched, must be refused — a fresh plan has no such step — and the
// Service must survive.
func TestApplySavedPlanRefusesForgedStep(t *testing.T) {
	env, ns, file := appliedQuickstart(t)
	saved := filepath.Join(t.TempDir(), "plan.json")
	if code, _, stderr := runApplyCLI(t, env, "plan", "-f", file, "--skip-neo4j", "--out", saved); code != 0 {
		t.Fatalf("plan --out: exit %d\n%s", code, stderr)
	}
	b, err := os.ReadFile(saved)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	addr := "k8s:core/Service/" + ns + "/quickstart"
	doc["steps"] = append(doc["steps"].([]any), map[string]any{
		"id": "s99", "address": addr, "action": "delete", "kind": "delete", "depends_on": []any{},
		"object": map[string]any{"group": "", "version": "v1", "kind": "Service", "namespace": ns, "name": "quickstart"},
	})
	doc["has_changes"] = true
	doc["summary"].(map[string]any)["destroy"] = 1
	b, _ = json.Marshal(doc)
	if err := os.WriteFile(saved, b, 0o644); err != nil {
		t.Fatal(err)
	}

	code, stdout, stderr := runApplyCLI(t, env, "apply", saved, "-f", file, "--skip-neo4j", "--wait=false")
	if code != ExitError {
		t.Errorf("apply of the forged plan: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, ExitError, stdout, stderr)
	}
	for _, want := range []string{"does not match what a fresh plan would do", "s99", addr} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	cs, err := env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	svc, err := cs.CoreV1().Services(ns).Get(context.Background(), "quickstart", metav1.GetOptions{})
	if err != nil || svc.DeletionTimestamp != nil {
		t.Errorf("the forged plan deleted the Service: %v", err)
	}
}

// TestApplySavedPlanKeepsItsTargets: a plan saved with --target is
// checked against a fresh plan with the same targets, and applies only
// them.
func TestApplySavedPlanKeepsItsTargets(t *testing.T) {
	env := testenv.Shared(t)
	ns := testenv.Namespace(t, env)
	file, _ := quickstart(t, ns)
	saved := filepath.Join(t.TempDir(), "plan.json")
	target := "k8s:core/ServiceAccount/" + ns + "/*"
	if code, _, stderr := runApplyCLI(t, env, "plan", "-f", file, "--skip-neo4j", "--target", target, "--out", saved); code != 0 {
		t.Fatalf("plan --out: exit %d\n%s", code, stderr)
	}
	if code, stdout, stderr := runApplyCLI(t, env, "apply", saved, "-f", file, "--skip-neo4j", "--wait=false"); code != 0 {
		t.Fatalf("apply %s: exit %d\n%s\n%s", saved, code, stdout, stderr)
	}
	cs, err := env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := cs.CoreV1().ServiceAccounts(ns).Get(ctx, "quickstart", metav1.GetOptions{}); err != nil {
		t.Errorf("the targeted ServiceAccount was not applied: %v", err)
	}
	if _, err := cs.AppsV1().StatefulSets(ns).Get(ctx, "quickstart", metav1.GetOptions{}); err == nil {
		t.Errorf("the StatefulSet, not targeted, was applied")
	}
}

// TestCompletesNamespaces: --namespace completes the cluster's namespaces
// (one LIST on the real control plane).
func TestCompletesNamespaces(t *testing.T) {
	env := testenv.Shared(t)
	ns := testenv.Namespace(t, env)
	_, stdout, _ := runApplyCLI(t, env, "__complete", "plan", "-n", "")
	if !strings.Contains(stdout, "\n"+ns+"\n") || !strings.HasSuffix(stdout, ":4\n") {
		t.Errorf("completion of -n lacks %s:\n%s", ns, stdout)
	}
}
