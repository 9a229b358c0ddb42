package cmd

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/neo4jctl/neo4jctl/e2e/harness"
	"github.com/neo4jctl/neo4jctl/e2e/neo4jsim"
	"github.com/neo4jctl/neo4jctl/e2e/testenv"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/manifests"
)

// TestApplyCommunityWaitsForBolt: a Community cluster's plan has no Neo4j
// step, and its Pod is Ready before Neo4j answers on Bolt. Here Bolt
// opens three seconds after the Pod is Ready: apply waits for it, then
// verifies (before, the verifying plan reported "neo4j not observed").
func TestApplyCommunityWaitsForBolt(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	env := testenv.Shared(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ns := testenv.Namespace(t, env)
	b, err := os.ReadFile("../examples/community.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "community.yaml")
	if err := os.WriteFile(file, []byte(strings.Replace(string(b), "namespace: graphs", "namespace: "+ns, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte("community-pw-1"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := clusterfile.LoadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := harness.PrepareNamespace(ctx, env, c, ns, "community-pw-1"); err != nil {
		t.Fatal(err)
	}
	sim, err := harness.StartSim(ctx, env, c, ns, "community-pw-1", neo4jsim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	cs, err := env.Clientset()
	if err != nil {
		t.Fatal(err)
	}

	sim.RefuseConnections(true)
	pod := manifests.Pools(c)[0].StatefulSet + "-0"
	opened := make(chan time.Time, 1)
	go func() {
		defer func() { sim.RefuseConnections(false) }()
		for ctx.Err() == nil {
			p, err := cs.CoreV1().Pods(ns).Get(ctx, pod, metav1.GetOptions{})
			if err == nil && podReady(p) {
				time.Sleep(3 * time.Second)
				sim.RefuseConnections(false)
				opened <- time.Now()
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	f := &driftFixture{t: t, file: file, pwFile: pw}
	code, out, errOut := f.run(env.Kubeconfig, "apply", "-f", file, "--auto-approve", "--neo4j-password-file", pw, "--step-timeout", "60s")
	if code != ExitOK {
		t.Fatalf("apply of a Community cluster whose Bolt opens 3s after its Pod is Ready: exit %d\n%s\n%s", code, out, errOut)
	}
	select {
	case <-opened:
	default:
		t.Fatalf("apply finished before Bolt opened:\n%s\n%s", out, errOut)
	}
	if !strings.Contains(out+errOut, "Waiting for Neo4j to answer on Bolt before verifying") {
		t.Errorf("apply did not say what it waited for:\n%s\n%s", out, errOut)
	}
	for _, e := range sim.Errs() {
		t.Errorf("simulator: %v", e)
	}
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
