package cmd

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/neo4jctl/neo4jctl/e2e/harness"
	"github.com/neo4jctl/neo4jctl/e2e/neo4jsim"
	"github.com/neo4jctl/neo4jctl/internal/iostreams"
	"github.com/neo4jctl/neo4jctl/internal/lifecycle"
	"github.com/neo4jctl/neo4jctl/internal/neo4j"
)

const rotateCanary = "canary-old-pw-5d1e"

var errRotateKilled = errors.New("killed")

// TestRotatePasswordKilledAfterEachStep rotates the admin password of a
// simulated cluster, stopping the rotation after each of its steps as a
// kill would, then checks that a password the Secret holds logs in, that
// plan (which reads the Secret as watch and healthcheck do) still works,
// and that a rerun ends with the Secret's key holding the password Neo4j
// accepts. No password ever appears in any output.
func TestRotatePasswordKilledAfterEachStep(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the test control plane and the simulator")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	f, _ := prepareQuickstart(t, ctx, rotateCanary, func(s string) string { return s })
	var err error
	f.sim, err = harness.StartSim(ctx, f.env, f.c, f.ns, rotateCanary, neo4jsim.Config{TransitionDelay: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.sim.Close)
	var outputs strings.Builder
	run := func(args ...string) (int, string, string) {
		code, out, errOut := f.run(f.env.Kubeconfig, args...)
		outputs.WriteString(out + errOut)
		return code, out, errOut
	}
	if code, out, errOut := run("apply", "-f", f.file, "--auto-approve"); code != ExitOK {
		t.Fatalf("apply: exit %d\n%s\n%s", code, out, errOut)
	}
	secret := func() map[string][]byte {
		s, err := f.cs.CoreV1().Secrets(f.ns).Get(ctx, "neo4j-auth", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return s.Data
	}
	logsIn := func(pw string) bool {
		c, err := neo4j.Open(ctx, neo4j.Config{URI: f.sim.URI("neo4j"), Username: "neo4j", Password: pw, Resolver: neo4j.MapResolver(f.sim.AddressMap())})
		if err != nil {
			if !neo4j.IsAuth(err) {
				t.Fatalf("log in: %v", err)
			}
			return false
		}
		_ = c.Close(ctx)
		return true
	}
	seen := map[string]bool{rotateCanary: true}
	for _, crash := range []lifecycle.RotateStep{lifecycle.StepLogin, lifecycle.StepRecordNext, lifecycle.StepAlter, lifecycle.StepVerify, lifecycle.StepPromote} {
		io, _, out, errOut := iostreams.Test()
		flags := genericclioptions.NewConfigFlags(true)
		flags.KubeConfig = &f.env.Kubeconfig
		fac := &Factory{IO: io, KubeFlags: flags, Build: BuildInfo{Version: "test"}}
		cmd := NewCmdRotatePassword(fac, func(o *RotatePasswordOptions) error {
			o.step = func(s lifecycle.RotateStep) error {
				if s == crash {
					return errRotateKilled
				}
				return nil
			}
			return o.Run(ctx)
		})
		cmd.SetArgs([]string{"-f", f.file})
		cmd.SetOut(io.Out)
		cmd.SetErr(io.ErrOut)
		err := cmd.Execute()
		outputs.WriteString(out.String() + errOut.String())
		if !errors.Is(err, errRotateKilled) {
			t.Fatalf("kill after %s: %v\n%s", crash, err, errOut)
		}
		data := secret()
		for _, v := range data {
			seen[string(v)] = true
		}
		cur, next := string(data["password"]), string(data["next-password"])
		if !logsIn(cur) && (next == "" || !logsIn(next)) {
			t.Fatalf("killed after %s: no password in the Secret logs in (locked out)", crash)
		}
		// plan logs in with the Secret as watch and healthcheck do.
		if code, o, e := run("plan", "-f", f.file, "--detailed-exitcode"); code != ExitOK {
			t.Errorf("plan after a kill at %s: exit %d\n%s\n%s", crash, code, o, e)
		}
		code, o, e := run("rotate", "password", "-f", f.file)
		if code != ExitOK {
			t.Fatalf("rerun after a kill at %s: exit %d\n%s\n%s", crash, code, o, e)
		}
		data = secret()
		for _, v := range data {
			seen[string(v)] = true
		}
		if _, ok := data["next-password"]; ok {
			t.Errorf("after the rerun (kill at %s): next-password left in the Secret", crash)
		}
		if !logsIn(string(data["password"])) {
			t.Errorf("after the rerun (kill at %s): the Secret's password does not log in", crash)
		}
	}
	if logsIn(rotateCanary) {
		t.Error("the first password still logs in")
	}
	if len(seen) < 3 {
		t.Errorf("only %d distinct passwords were seen: the rotations did not rotate", len(seen))
	}
	all := outputs.String()
	for pw := range seen {
		if strings.Contains(all, pw) {
			t.Errorf("a password appeared in the output")
		}
	}
	for _, st := range f.sim.Log() {
		for pw := range seen {
			if strings.Contains(st.Query, pw) {
				t.Errorf("a password was sent in a statement's text: %s", st.Command)
			}
		}
	}
}
