package cmd

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
)

// TestValidateAndRenderReadStdin: -f - reads the cluster file from stdin
// for validate and render too (the README promises it for every command
// that takes -f), named "stdin" in messages.
func TestValidateAndRenderReadStdin(t *testing.T) {
	b, err := os.ReadFile("../examples/quickstart.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out := func(x any) string { return x.(interface{ String() string }).String() }
	for _, tc := range []struct {
		args []string
		want string // in stdout
	}{
		{[]string{"validate", "-f", "-"}, "stdin is valid: enterprise cluster neo4j/quickstart"},
		{[]string{"render", "-f", "-"}, "kind: StatefulSet"},
		{[]string{"render", "-f", "-", "--ci-role"}, "kind: Role"},
		{[]string{"render", "-f", "-", "--watch", "--watch-image", "example.com/neo4jctl:1.0.0"}, "quickstart.yaml: |"},
	} {
		f, io := testFactory()
		io.In = bytes.NewReader(b)
		code := Run(context.Background(), f, tc.args)
		if code != ExitOK || !strings.Contains(out(io.Out), tc.want) {
			t.Errorf("%v with the quickstart on stdin: exit %d, stderr %q, stdout lacks %q", tc.args, code, out(io.ErrOut), tc.want)
		}
	}
	// A bad file on stdin is reported as stdin:line.
	for _, cmd := range []string{"validate", "render"} {
		f, io := testFactory()
		io.In = strings.NewReader(strings.Replace(string(b), "servers: 3", "servers: 2", 1))
		code := Run(context.Background(), f, []string{cmd, "-f", "-"})
		if stderr := out(io.ErrOut); code != ExitError || !strings.Contains(stderr, "stdin:") {
			t.Errorf("%s -f - with an invalid file: exit %d, stderr:\n%s\nwant stdin:line: problems", cmd, code, stderr)
		}
	}
}
