package cmd

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
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
