package cmd

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/neo4jctl/neo4jctl/e2e/harness"
	"github.com/neo4jctl/neo4jctl/e2e/neo4jsim"
	"github.com/neo4jctl/neo4jctl/e2e/testenv"
)

// twoContexts writes a kubeconfig whose context src is a's control plane
// and dst b's, current context src.
func twoContexts(t *testing.T, a, b *testenv.Env) string {
	t.Helper()
	merged := clientcmdapi.NewConfig()
	for name, env := range map[string]*testenv.Env{"src": a, "dst": b} {
		cfg, err := clientcmd.LoadFromFile(env.Kubeconfig)
		if err != nil {
			t.Fatal(err)
		}
		cur := cfg.Contexts[cfg.CurrentContext]
		merged.Clusters[name] = cfg.Clusters[cur.Cluster]
		merged.AuthInfos[name] = cfg.AuthInfos[cur.AuthInfo]
		merged.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name}
	}
	merged.CurrentContext = "src"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*merged, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestDRDrillToAnotherContext drills the applied Community example (on
// the shared control plane, context src) into a second, private control
// plane (context dst of the same kubeconfig), as a DR into another
// Kubernetes cluster. Real: two kube-apiservers; the catalogue read; the
// Secrets read in src and written in dst; the scratch namespace created,
// applied, restored (load Job), health-checked, counted and torn down in
// dst; the simulator following the scratch StatefulSet in dst.
// Simulated and marked so: kwok completes the Job's Pod; Neo4j is the
// simulator.
//
// The scratch namespace appears in dst and never in src; the report
// names the context; an unknown context is refused before anything.
func TestDRDrillToAnotherContext(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs the test control planes")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	f, _ := communityRestoreFixture(t, ctx)
	dstEnv := testenv.Private(t, testenv.Options{})
	srcCS, err := f.env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	dstCS, err := dstEnv.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srcCS.CoreV1().Secrets(f.ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "bk-keyset"}, StringData: map[string]string{"keyset.json": "{}"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	e := putDumpEntry(t, f.bucket, "community", "neo4j", time.Now().Add(-30*time.Minute))
	markVerified(t, f.bucket, e.ID)
	kubeconfig := twoContexts(t, f.env, dstEnv)

	scratch := f.ns + "-dr"
	sim, err := harness.StartSim(ctx, dstEnv, f.c, scratch, "community-pw-1", neo4jsim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	sim.SetNodeCount("neo4j", 11)

	// Where the scratch namespace shows up while the drill runs.
	var inSrc, inDst atomic.Bool
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go func() {
		for watchCtx.Err() == nil {
			if _, err := srcCS.CoreV1().Namespaces().Get(watchCtx, scratch, metav1.GetOptions{}); err == nil {
				inSrc.Store(true)
			}
			if _, err := dstCS.CoreV1().Namespaces().Get(watchCtx, scratch, metav1.GetOptions{}); err == nil {
				inDst.Store(true)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()

	if code, _, errOut := runCLIAs(kubeconfig, "dr", "drill", "-f", f.file, "--to-context", "nowhere", "--namespace", scratch, "--neo4j-password-file", f.pwFile); code != ExitError || !strings.Contains(errOut, "--to-context nowhere: no such context") {
		t.Errorf("unknown --to-context: exit %d\n%s", code, errOut)
	}
	code, out, errOut := runCLIAs(kubeconfig, "--context", "src", "dr", "drill", "-f", f.file, "--to-context", "dst", "--namespace", scratch,
		"--neo4j-password-file", f.pwFile, "-o", "json", "--step-timeout", "60s", "--no-record")
	stopWatch()
	if code != ExitOK {
		t.Fatalf("dr drill --to-context dst: exit %d\n%s\n%s", code, out, errOut)
	}
	var r struct {
		drillJSON
		Context string `json:"context"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("report: %v\n%s", err, out)
	}
	if r.Context != "dst" || !r.Met || len(r.Counts) != 1 || r.Counts[0].Nodes != 11 || r.Counts[0].Restored != e.ID {
		t.Errorf("report: context %q met %v counts %+v\n%s", r.Context, r.Met, r.Counts, out)
	}
	for _, s := range r.Steps {
		if s.Error != "" {
			t.Errorf("step %s failed: %s", s.Name, s.Error)
		}
	}
	if !inDst.Load() || inSrc.Load() {
		t.Errorf("scratch namespace seen in dst %v (want true), in src %v (want false)", inDst.Load(), inSrc.Load())
	}
	if _, err := dstCS.CoreV1().Namespaces().Get(ctx, scratch, metav1.GetOptions{}); err == nil {
		t.Errorf("the scratch namespace %s is still in dst", scratch)
	}
}
