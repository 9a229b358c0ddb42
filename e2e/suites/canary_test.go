package suites

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/neo4jctl/neo4jctl/e2e/testenv"
)

// TestCanaryPasswordNeverPrinted plants a canary password where neo4jctl
// must read or diff it — the auth Secret (which neo4jctl reads to log in
// to Neo4j), an env var edited out of band from a secretKeyRef into a
// literal value, and a credential-looking line added to neo4j.conf — and
// checks that it appears in no output of plan (human, compact, json,
// markdown, saved plan file) or apply (human, NDJSON), stdout or stderr.
func TestCanaryPasswordNeverPrinted(t *testing.T) {
	t.Parallel()
	requireE2E(t)
	env := testenv.Shared(t)
	c := newCluster(t, env, clusterOpts{})
	canary := "CANARY" + randomHex(t, 10)
	// The Secret holds the canary, and Neo4j accepts it: every run below
	// really uses it to log in.
	c.setSecret(canary)
	c.sim.SetPassword(canary)

	var outputs []result
	check := func(r result) {
		t.Helper()
		outputs = append(outputs, r)
		if strings.Contains(r.stdout, canary) || strings.Contains(r.stderr, canary) {
			t.Errorf("the canary password appears in the output of %s", strings.Join(r.args, " "))
		}
	}
	res := c.apply()
	check(res)
	if res.code != 0 {
		t.Fatalf("apply:\n%s", res)
	}
	check(c.apply("-o", "json"))

	// Out-of-band: the password written literally into NEO4J_AUTH (which
	// the cluster file builds from the Secret-backed AUTH_PASSWORD), and
	// as a neo4j.conf line.
	if r := c.kubectl(nil, "set", "env", "statefulset/"+c.name, "-c", "neo4j", "NEO4J_AUTH=neo4j/"+canary); r.code != 0 {
		t.Fatalf("kubectl set env:\n%s", r)
	}
	// The template change rolls the Pods; planning while they are replaced
	// may find no server to read (and rightly fail closed), which is not
	// what this test is about.
	if r := c.kubectl(nil, "rollout", "status", "statefulset/"+c.name, "--timeout=120s"); r.code != 0 {
		t.Fatalf("kubectl rollout status:\n%s", r)
	}
	editor := filepath.Join(c.dir, "editor.sh")
	// The dynamic settings' ConfigMap: the restart settings' one is an
	// immutable revision.
	script := "#!/bin/sh\nsed -i -e 's/overwritten\\./overwritten.\\n    dbms.example.auth_password=" + canary + "/' \"$1\"\n"
	if err := os.WriteFile(editor, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if r := c.kubectl([]string{"KUBE_EDITOR=" + editor}, "edit", "configmap", c.name+"-config-dynamic"); r.code != 0 {
		t.Fatalf("kubectl edit:\n%s", r)
	}
	if r := c.kubectl(nil, "get", "configmap", c.name+"-config-dynamic", "-o", "yaml"); !strings.Contains(r.stdout, canary) {
		t.Fatalf("the canary was not planted in the ConfigMap:\n%s", r)
	}

	planFile := filepath.Join(c.dir, "plan.json")
	for _, args := range [][]string{
		{"plan", "-f", c.file},
		{"plan", "-f", c.file, "--compact"},
		{"plan", "-f", c.file, "-o", "json"},
		{"plan", "-f", c.file, "-o", "markdown"},
		{"plan", "-f", c.file, "--out", planFile},
	} {
		r := c.neo4jctl(args...)
		if r.code != 0 { // changes without --detailed-exitcode: 0
			t.Errorf("%s: exit %d\n%s", strings.Join(args, " "), r.code, r)
		}
		if !strings.Contains(r.stdout, "NEO4J_AUTH") && !strings.Contains(r.stdout, "neo4j.conf") && args[len(args)-1] != planFile && args[len(args)-1] != "--compact" {
			t.Errorf("%s does not show the changed fields at all, so it proves nothing about redaction:\n%s", strings.Join(args, " "), r)
		}
		check(r)
	}
	b, err := os.ReadFile(planFile)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), canary) {
		t.Errorf("the canary password appears in the saved plan file")
	}

	// Verbosity: neo4jctl has no -v/--v flag of its own; if one appears
	// (klog's, through a dependency), the most verbose level must not
	// leak either.
	help := c.neo4jctl("plan", "--help")
	for _, flag := range []string{"--v", "-v", "--verbose"} {
		if strings.Contains(help.stdout, "  "+flag+" ") || strings.Contains(help.stdout, ", "+flag+" ") || strings.Contains(help.stdout, " "+flag+"=") {
			check(c.neo4jctl("plan", "-f", c.file, flag+"=10"))
		}
	}

	// apply takes the fields back — a rolling update gated per Pod on
	// Kubernetes and Neo4j — and its output must not print them.
	res = c.apply()
	check(res)
	if res.code != 0 {
		t.Errorf("apply:\n%s", res)
	}
	if len(outputs) < 8 {
		t.Errorf("only %d outputs checked", len(outputs))
	}
}
