package cmd

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/neo4jctl/neo4jctl/e2e/harness"
	"github.com/neo4jctl/neo4jctl/e2e/neo4jsim"
)

// TestRedactionEndToEnd is issue 12's reproduction of item 7 run end to
// end: a cluster file with server.jvm.additional: -Dfoo.password=canary…
// (and the auth Secret's password also holding the canary, later planted
// in the live ConfigMap under an innocent key) is applied to
// the test control plane with the Bolt simulator; then apply, plan in every
// format, the saved plan, an out-of-band edit of the ConfigMap that puts
// another canary in, drift in every format and the GitHub step summary,
// render and validate are all run. The canary must appear 0 times.
func TestRedactionEndToEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	const password = "canary-secret-pw"
	f, dir := prepareQuickstart(t, ctx, password, func(s string) string {
		return strings.Replace(s, "    server.memory.pagecache.size: 256m\n",
			"    server.memory.pagecache.size: 256m\n    server.jvm.additional: -XX:+UseG1GC -Dfoo.password=canary1 -Dbar.token=canary2\n", 1)
	})
	env := f.env
	var err error
	if f.sim, err = harness.StartSim(ctx, env, f.c, f.ns, password, neo4jsim.Config{TransitionDelay: 100 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.sim.Close)
	kc := env.Kubeconfig
	pw := []string{"--neo4j-password-file", f.pwFile}

	outputs := map[string]string{}
	run := func(name string, wantCodes []int, args ...string) string {
		t.Helper()
		code, out, errOut := f.run(kc, args...)
		outputs[name] = out + errOut
		for _, c := range wantCodes {
			if code == c {
				return out
			}
		}
		t.Fatalf("%s: exit %d, want one of %v\n%s\n%s", name, code, wantCodes, out, errOut)
		return ""
	}
	run("apply", []int{ExitOK}, append([]string{"apply", "-f", f.file, "--auto-approve"}, pw...)...)
	f.eventually("in sync after apply", kc, inSync)

	// Out of band: another canary inside the live neo4j.conf.
	// (the dynamic settings' ConfigMap: the restart settings' one is an
	// immutable revision the API server will not let anyone edit).
	cm, err := f.cs.CoreV1().ConfigMaps(f.ns).Get(ctx, "quickstart-config-dynamic", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	conf := cm.Data["dynamic.conf"] + "server.jvm.additional=-Dfoo.password=canary3 --token canary4 bolt://neo4j:canary5@h:7687\n"
	// The auth Secret's password, under a key that names no credential:
	// only the value neo4jctl read from the Secret can hide it.
	conf += "browser.post_connect_cmd=" + password + "\n"
	body, err := json.Marshal(map[string]any{"data": map[string]string{"dynamic.conf": conf}})
	if err != nil {
		t.Fatal(err)
	}
	f.patch("ConfigMap", "quickstart-config-dynamic", types.MergePatchType, string(body), "kubectl-edit")

	for _, o := range []string{"human", "compact", "json", "markdown"} {
		run("plan -o "+o, []int{ExitOK, ExitChanges}, append([]string{"plan", "-f", f.file, "-o", o, "--detailed-exitcode"}, pw...)...)
	}
	saved := filepath.Join(dir, "plan.json")
	run("plan --out", []int{ExitOK, ExitChanges}, append([]string{"plan", "-f", f.file, "--out", saved}, pw...)...)
	b, err := os.ReadFile(saved)
	if err != nil {
		t.Fatal(err)
	}
	outputs["saved plan"] = string(b)
	summary := filepath.Join(dir, "step-summary.md")
	t.Setenv(stepSummaryEnv, summary)
	for _, o := range []string{"text", "json", "markdown", "github"} {
		run("drift -o "+o, []int{ExitChanges}, append([]string{"drift", "-f", f.file, "-o", o}, pw...)...)
	}
	b, err = os.ReadFile(summary)
	if err != nil {
		t.Fatalf("no step summary: %v", err)
	}
	outputs["$GITHUB_STEP_SUMMARY"] = string(b)
	run("render", []int{ExitOK}, "render", "-f", f.file)
	run("validate", []int{ExitOK}, "validate", "-f", f.file)

	if !strings.Contains(outputs["drift -o json"], "dynamic.conf") || !strings.Contains(outputs["plan -o human"], "(sensitive)") {
		t.Errorf("the out-of-band ConfigMap edit is not reported:\ndrift: %s\nplan: %s", outputs["drift -o json"], outputs["plan -o human"])
	}
	total := 0
	for name, out := range outputs {
		if n := strings.Count(out, "canary"); n > 0 {
			total += n
			t.Errorf("%s: the canary appears %d times:\n%s", name, n, out)
		}
	}
	t.Logf("%d outputs checked, canary found %d times", len(outputs), total)
}
