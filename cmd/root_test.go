package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/neo4jctl/neo4jctl/internal/iostreams"
)

// TestSafetyGatesIgnoreTheEnvironment: the flags that approve, force,
// replace, unlock or allow irreversible steps are taken only from the
// command line; NEO4JCTL_AUTO_APPROVE=true in a CI job's environment must
// not turn an apply without a terminal into one that applies.
func TestSafetyGatesIgnoreTheEnvironment(t *testing.T) {
	for _, env := range []string{"NEO4JCTL_AUTO_APPROVE", "NEO4JCTL_FORCE_CONFLICTS", "NEO4JCTL_ALLOW_REPLACE"} {
		t.Setenv(env, "true")
	}
	t.Setenv("NEO4JCTL_LOCK", "false")
	t.Setenv("NEO4JCTL_STEP_TIMEOUT", "3m") // an ordinary flag still is
	var got *ApplyOptions
	err := runWith(t, "apply", func(f *Factory) *cobra.Command {
		return NewCmdApply(f, func(o *ApplyOptions) error { got = o; return nil })
	}, []string{"apply", "-f", "a.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	if got.AutoApprove || got.Force || got.AllowReplace || !got.Lock {
		t.Errorf("safety gates read from the environment: auto-approve %v, force-conflicts %v, allow-replace %v, lock %v; want false, false, false, true",
			got.AutoApprove, got.Force, got.AllowReplace, got.Lock)
	}
	if got.StepTimeout.String() != "3m0s" {
		t.Errorf("NEO4JCTL_STEP_TIMEOUT: got %s, want 3m0s (ordinary flags still come from the environment)", got.StepTimeout)
	}
	// On the command line they still work.
	err = runWith(t, "apply", func(f *Factory) *cobra.Command {
		return NewCmdApply(f, func(o *ApplyOptions) error { got = o; return nil })
	}, []string{"apply", "-f", "a.yaml", "--auto-approve", "--force-conflicts", "--allow-replace", "--lock=false"})
	if err != nil {
		t.Fatal(err)
	}
	if !got.AutoApprove || !got.Force || !got.AllowReplace || got.Lock {
		t.Errorf("command-line gates not taken: %+v", got)
	}
}

// TestWatchGatesRefuseTheEnvironment: watch's enforce-mode gates are
// command line only too. Unlike apply, which ignores such a variable with a
// warning, watch runs unattended in a Pod: it refuses to start, so a
// Deployment that sets one fails visibly instead of running without the
// grant its author expected (item 4 narrows them further, never widens).
func TestWatchGatesRefuseTheEnvironment(t *testing.T) {
	for _, env := range []string{"NEO4JCTL_ALLOW_IRREVERSIBLE", "NEO4JCTL_FORCE_CONFLICTS"} {
		t.Run(env, func(t *testing.T) {
			t.Setenv(env, "true")
			var got *WatchOptions
			err := runWith(t, "watch", func(f *Factory) *cobra.Command {
				return NewCmdWatch(f, func(o *WatchOptions) error { got = o; return nil })
			}, []string{"watch", "-f", "a.yaml", "--mode", "enforce"})
			if err == nil || !strings.Contains(err.Error(), env) || !strings.Contains(err.Error(), "command line only") {
				t.Errorf("got error %v, want a refusal naming %s", err, env)
			}
			if got != nil {
				t.Errorf("watch ran with %s set: allow-irreversible %v, force-conflicts %v", env, got.Watch.AllowIrreversible, got.Watch.ForceConflicts)
			}
		})
	}
}

// TestSafetyGatesSayCommandLineOnly: every command's help says which of
// its flags are command line only, and the environment variable of one is
// reported as ignored.
func TestSafetyGatesSayCommandLineOnly(t *testing.T) {
	for _, args := range [][]string{{"apply", "--help"}, {"plan", "--help"}, {"watch", "--help"}} {
		_, stdout, _ := runCLI(t, args...)
		_, flags, _ := strings.Cut(stdout, "\nFlags:\n")
		for _, line := range strings.Split(flags, "\n") {
			for _, name := range []string{"--auto-approve ", "--force-conflicts ", "--allow-replace ", "--allow-irreversible ", "--lock "} {
				if strings.HasPrefix(strings.TrimSpace(line), name) && !strings.Contains(line, "command line only") {
					t.Errorf("%s: %q does not say it is command line only", strings.Join(args, " "), strings.TrimSpace(line))
				}
			}
		}
	}
	t.Setenv("NEO4JCTL_AUTO_APPROVE", "true")
	_, _, stderr := runCLI(t, "apply", "-f", "/nonexistent/cluster.yaml")
	if !strings.Contains(stderr, "NEO4JCTL_AUTO_APPROVE is ignored") {
		t.Errorf("stderr does not report the ignored variable:\n%s", stderr)
	}
}

// TestPlanOutPrintsTheApplyCommand: plan --out names the exact command
// that applies the saved plan — the cluster file with -f and the flags
// that shape apply's fresh plan — and leaves out plan-only flags.
func TestPlanOutPrintsTheApplyCommand(t *testing.T) {
	var got *PlanOptions
	err := runWith(t, "plan", func(f *Factory) *cobra.Command {
		return NewCmdPlan(f, func(o *PlanOptions) error { got = o; return nil })
	}, []string{"plan", "-f", "my clusters/a.yaml", "--out", "p.json", "--skip-neo4j", "--context", "kind-x",
		"-n", "prod", "--allow-replace", "-o", "json", "--target", "k8s:*", "--detailed-exitcode"})
	if err != nil {
		t.Fatal(err)
	}
	want := "neo4jctl apply p.json --allow-replace --context kind-x -f 'my clusters/a.yaml' --namespace prod --skip-neo4j"
	if got.applyCommand != want {
		t.Errorf("got  %s\nwant %s", got.applyCommand, want)
	}
}

// TestInterruptedIsNotAnError: Ctrl-C exits 130 and reads "Interrupted",
// never "Error: interrupted".
func TestInterruptedIsNotAnError(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errInterrupted)
	io, _, _, errOut := iostreams.Test()
	code := Run(ctx, &Factory{IO: io, KubeFlags: genericclioptions.NewConfigFlags(true)}, []string{"version"})
	if code != ExitInterrupted || errOut.String() != "Interrupted.\n" {
		t.Errorf("Ctrl-C during a command: got exit %d, stderr %q; want %d, %q", code, errOut.String(), ExitInterrupted, "Interrupted.\n")
	}
	var b bytes.Buffer
	printError(&b, fmt.Errorf("%w: the lock was released; run apply again to converge", errInterrupted))
	if want := "Interrupted: the lock was released; run apply again to converge\n"; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
	// apply -o json: an "interrupted" event at warn level, not an error.
	b.Reset()
	o := &ApplyOptions{Output: "json"}
	_ = o.reportJSON(&b, fmt.Errorf("%w: the lock was released; run apply again to converge", errInterrupted))
	var ev map[string]any
	if err := json.Unmarshal(b.Bytes(), &ev); err != nil || ev["type"] != "interrupted" || ev["@level"] != "warn" ||
		ev["@message"] != "the lock was released; run apply again to converge" {
		t.Errorf("apply -o json after Ctrl-C: got %s (%v), want an interrupted event at warn level", b.String(), err)
	}
}

// TestApplyJSONCarriesTheError: with -o json, an error that ends apply
// outside any step is an NDJSON "error" event on stdout with its reason,
// not only a line on stderr.
func TestApplyJSONCarriesTheError(t *testing.T) {
	code, stdout, _ := runCLI(t, "apply", "/nonexistent/plan.json", "-f", "../examples/quickstart.yaml", "-o", "json",
		"--kubeconfig", "/nonexistent/kubeconfig")
	if code != ExitError {
		t.Errorf("exit %d, want %d", code, ExitError)
	}
	var ev map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSpace(stdout)), &ev); err != nil {
		t.Fatalf("stdout is not one NDJSON event: %v\n%s", err, stdout)
	}
	if ev["type"] != "error" || ev["@level"] != "error" || !strings.Contains(fmt.Sprint(ev["@message"]), "/nonexistent/plan.json") {
		t.Errorf("got event %v, want an error event naming the plan file", ev)
	}
}

// TestFileFromStdin: -f - reads the cluster file from stdin (named
// "stdin" in messages); the policy check of the loaded file proves it was
// read, before anything is observed.
func TestFileFromStdin(t *testing.T) {
	b, err := os.ReadFile("../examples/quickstart.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f, io := testFactory()
	io.In = bytes.NewReader(b)
	code := Run(context.Background(), f, []string{"plan", "-f", "-", "--policy-file", "testdata/heap-policy.yaml", "--kubeconfig", "/nonexistent/kubeconfig"})
	stderr := io.ErrOut.(interface{ String() string }).String()
	if code != ExitError || !strings.Contains(stderr, "heap-at-least-2g") {
		t.Errorf("plan -f - with the quickstart on stdin: exit %d, stderr:\n%s\nwant the policy violation of the file read from stdin", code, stderr)
	}
	// A bad file on stdin is reported as stdin:line.
	f, io = testFactory()
	io.In = strings.NewReader(strings.Replace(string(b), "servers: 3", "servers: 2", 1))
	code = Run(context.Background(), f, []string{"plan", "-f", "-", "--kubeconfig", "/nonexistent/kubeconfig"})
	if stderr := io.ErrOut.(interface{ String() string }).String(); code != ExitError || !strings.Contains(stderr, "stdin:") {
		t.Errorf("plan -f - with an invalid file: exit %d, stderr:\n%s\nwant stdin:line: problems", code, stderr)
	}
	if code, _, stderr := runCLI(t, "plan", "-f", "-", "-f", "-"); code != ExitError || !strings.Contains(stderr, "can be read once") {
		t.Errorf("-f - twice: exit %d, stderr %q", code, stderr)
	}
}

// TestCompletesFlagValues: --context completes the kubeconfig's contexts,
// -f cluster files by extension, -o the command's formats.
func TestCompletesFlagValues(t *testing.T) {
	kubeconfig := t.TempDir() + "/config"
	if err := os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c1, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u1, user: {token: x}}]
contexts:
- {name: staging, context: {cluster: c1, user: u1}}
- {name: prod, context: {cluster: c1, user: u1}}
current-context: prod
`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"__complete", "plan", "--kubeconfig", kubeconfig, "--context", ""}, "prod\nstaging\n:4\n"},
		{[]string{"__complete", "apply", "--kubeconfig", kubeconfig, "--cluster", ""}, "c1\n:4\n"},
		{[]string{"__complete", "plan", "-f", ""}, "yaml\nyml\njson\n:8\n"},
		{[]string{"__complete", "apply", "-o", ""}, "human\njson\n:4\n"},
		{[]string{"__complete", "drift", "--color", ""}, "auto\nalways\nnever\n:4\n"},
	}
	for _, tc := range tests {
		_, stdout, _ := runCLI(t, tc.args...)
		if stdout != tc.want {
			t.Errorf("%s: got %q, want %q", strings.Join(tc.args[1:], " "), stdout, tc.want)
		}
	}
}

// TestNeo4jWriteTimeoutFlag: every Neo4j write has a deadline, 2m unless
// --neo4j-write-timeout says otherwise, handed to the Neo4j client.
func TestNeo4jWriteTimeoutFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want time.Duration
	}{
		{[]string{"apply", "-f", "a.yaml"}, 2 * time.Minute},
		{[]string{"apply", "-f", "a.yaml", "--neo4j-write-timeout", "30s"}, 30 * time.Second},
	} {
		var got *ApplyOptions
		if err := runWith(t, "apply", func(f *Factory) *cobra.Command {
			return NewCmdApply(f, func(o *ApplyOptions) error { got = o; return nil })
		}, tc.args); err != nil {
			t.Fatal(err)
		}
		acc, err := got.cluster.neo4jAccess(io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if acc.WriteTimeout != tc.want {
			t.Errorf("%v: write timeout %s, want %s", tc.args, acc.WriteTimeout, tc.want)
		}
	}
}
