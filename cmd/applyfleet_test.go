package cmd

import (
	"bytes"
	"strings"
	"sync"
	"testing"
)

func TestLineWriterPrefixesWholeLines(t *testing.T) {
	var out bytes.Buffer
	var mu sync.Mutex
	w := &lineWriter{mu: &mu, w: &out, label: "ns/a"}
	for _, chunk := range []string{"Applying", "…\nApplied after 3ms\n", "\n", "no newline"} {
		if _, err := w.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	w.flush()
	want := "[ns/a] Applying…\n[ns/a] Applied after 3ms\n\n[ns/a] no newline\n"
	if got := out.String(); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestLineWriterAddsClusterToNDJSON(t *testing.T) {
	var out bytes.Buffer
	var mu sync.Mutex
	w := &lineWriter{mu: &mu, w: &out, label: `ns/"odd"`, json: true}
	_, _ = w.Write([]byte(`{"@level":"info","type":"apply_start"}` + "\n"))
	got := out.String()
	if !strings.HasPrefix(got, `{"cluster":"ns/\"odd\"","@level":"info"`) {
		t.Errorf("got %q, want the cluster field first and the name JSON-escaped", got)
	}
}

func TestFleetApplyNeedsAutoApprove(t *testing.T) {
	code, _, stderr := runCLI(t, "apply", "-f", "../examples")
	if code != ExitError || !strings.Contains(stderr, "--auto-approve") {
		t.Errorf("got exit %d, stderr %q; want exit 1 asking for --auto-approve", code, stderr)
	}
}
