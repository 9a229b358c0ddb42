package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/neo4jctl/neo4jctl/drift/watch"
	"github.com/neo4jctl/neo4jctl/internal/iostreams"
)

func TestWatchFlags(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantErr  string
		wantOpts func(*WatchOptions) bool
	}{
		{name: "no source", args: []string{"watch"}, wantErr: "-f CLUSTER_FILE|DIR or --from-configmaps SELECTOR is required"},
		{name: "both sources", args: []string{"watch", "-f", "a.yaml", "--from-configmaps", "x=y"}, wantErr: "exclusive"},
		{name: "bad mode", args: []string{"watch", "-f", "a.yaml", "--mode", "fix"}, wantErr: "--mode must be warn or enforce"},
		{name: "bad output", args: []string{"watch", "-f", "a.yaml", "-o", "yaml"}, wantErr: "-o must be human or json"},
		{name: "interval too short", args: []string{"watch", "-f", "a.yaml", "--interval", "10ms"}, wantErr: "--interval must be at least 1s"},
		{name: "defaults", args: []string{"watch", "-f", "a.yaml"}, wantOpts: func(o *WatchOptions) bool {
			w := o.Watch
			return w.Mode == watch.ModeWarn && w.Interval == time.Minute && w.Debounce == 200*time.Millisecond &&
				w.MetricsAddr == ":9090" && !w.LeaderElect && !w.Suspend && !w.AllowIrreversible && o.Output == "human"
		}},
		{name: "in-cluster", args: []string{"watch", "--from-configmaps", "team=graph", "--mode", "enforce", "--leader-elect", "--suspend", "--allow-irreversible", "-o", "json", "--interval", "2m"},
			wantOpts: func(o *WatchOptions) bool {
				w := o.Watch
				return o.FromConfigMaps == "team=graph" && len(o.Files) == 0 && w.Mode == watch.ModeEnforce && w.LeaderElect &&
					w.Suspend && w.AllowIrreversible && o.Output == "json" && w.Interval == 2*time.Minute
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got *WatchOptions
			err := runWith(t, "watch", func(f *Factory) *cobra.Command {
				return NewCmdWatch(f, func(o *WatchOptions) error { got = o; return nil })
			}, tc.args)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.wantOpts(got) {
				t.Errorf("options not as expected: %+v", got)
			}
		})
	}
}

func TestWatchPrinterNDJSON(t *testing.T) {
	var b bytes.Buffer
	p := newWatchPrinter("json", &b)
	at := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	p(watch.Event{Time: at, Level: watch.LevelWarn, Type: "drift", Cluster: "g/p", Message: "drift: 1 address", Addresses: []string{"k8s:policy/PodDisruptionBudget/g/p"}})
	var got map[string]any
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatalf("not one JSON object per line: %v\n%s", err, b.String())
	}
	want := map[string]any{"@timestamp": "2026-11-26T10:00:00Z", "@level": "warn", "@message": "drift: 1 address", "type": "drift",
		"cluster": "g/p", "addresses": []any{"k8s:policy/PodDisruptionBudget/g/p"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestWatchTestOnlyFlagsAreHiddenAndNamedSo: a flag that exists for the
// test suites is hidden from --help and says what it is in its name, so
// nobody deploys watch with it by accident; a hidden flag is test-only.
func TestWatchTestOnlyFlagsAreHiddenAndNamedSo(t *testing.T) {
	cmd := NewCmdWatch(&Factory{}, nil)
	n := 0
	cmd.Flags().VisitAll(func(fl *pflag.Flag) {
		testOnly := strings.HasPrefix(fl.Name, "test-only-")
		if testOnly {
			n++
		}
		if fl.Hidden != testOnly {
			t.Errorf("--%s: hidden %v, named test-only %v; want both or neither", fl.Name, fl.Hidden, testOnly)
		}
		if testOnly && !strings.HasPrefix(fl.Usage, "TEST ONLY") {
			t.Errorf("--%s: usage %q does not start with TEST ONLY", fl.Name, fl.Usage)
		}
	})
	if n == 0 {
		t.Error("no test-only flag found; the suites' address map flag is gone?")
	}
}

// TestWatchStopIsNotAnError: a watch stopped by a signal while it was
// still starting (its informers had not synced) returns the signal's
// cancellation. That is the stop, not an error: exit 0 after SIGTERM,
// "Interrupted." and 130 after Ctrl-C, never "Error:". A real error at
// stop is still one.
func TestWatchStopIsNotAnError(t *testing.T) {
	tests := []struct {
		name     string
		cause    error
		err      error
		wantCode int
		wantOut  string
	}{
		{"SIGTERM while starting", errTerminated, fmt.Errorf("informers did not sync: %w", context.Canceled), ExitOK, ""},
		{"Ctrl-C while starting", errInterrupted, fmt.Errorf("informers did not sync: %w", context.Canceled), ExitInterrupted, "Interrupted.\n"},
		{"SIGTERM after a clean stop", errTerminated, nil, ExitOK, ""},
		{"Ctrl-C after a clean stop", errInterrupted, nil, ExitInterrupted, "Interrupted.\n"},
		{"audit log failure at stop", errTerminated, errors.New("audit log: disk full"), ExitError, "Error: audit log: disk full\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			io, _, _, errOut := iostreams.Test()
			f := &Factory{IO: io, KubeFlags: genericclioptions.NewConfigFlags(true)}
			root := NewCmdRoot(f)
			for _, c := range root.Commands() {
				if c.Name() == "watch" {
					root.RemoveCommand(c)
				}
			}
			root.AddCommand(NewCmdWatch(f, func(*WatchOptions) error { return tc.err }))
			root.SetArgs([]string{"watch", "-f", "a.yaml"})
			root.SetOut(io.Out)
			root.SetErr(io.ErrOut)
			ctx, cancel := context.WithCancelCause(context.Background())
			cancel(tc.cause)
			code := finish(ctx, f, root.ExecuteContext(ctx))
			if code != tc.wantCode || errOut.String() != tc.wantOut {
				t.Errorf("exit %d, stderr %q; want %d, %q", code, errOut.String(), tc.wantCode, tc.wantOut)
			}
		})
	}
}
