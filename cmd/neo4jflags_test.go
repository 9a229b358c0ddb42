package cmd

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/neo4jctl/neo4jctl/e2e/neo4jsim"
	"github.com/neo4jctl/neo4jctl/manifests/watch"
)

// TestWatchCAFlagFromRenderedArgs: the arguments `render --watch` gives
// watch's Deployment when TLS is on include --neo4j-ca-file at the mounted
// ca.crt; watch must accept them and hand the CA to the Neo4j client.
func TestWatchCAFlagFromRenderedArgs(t *testing.T) {
	pki, err := neo4jsim.NewTestPKI("neo4j.example")
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(caFile, pki.CAPEM, 0o444); err != nil {
		t.Fatal(err)
	}
	args := watch.Args(watch.Options{Namespace: "neo4j", CASecretName: "quickstart-tls"})
	i := slices.Index(args, "--neo4j-ca-file")
	if i < 0 || args[i+1] != watch.CAMountPath+"/ca.crt" {
		t.Fatalf("rendered watch args %q lack --neo4j-ca-file %s/ca.crt", args, watch.CAMountPath)
	}
	args[i+1] = caFile // the mounted Secret, here
	var got *WatchOptions
	if err := runWith(t, "watch", func(f *Factory) *cobra.Command {
		return NewCmdWatch(f, func(o *WatchOptions) error { got = o; return nil })
	}, args); err != nil {
		t.Fatalf("watch %q: %v", args, err)
	}
	acc, err := got.cluster.neo4jAccess(&bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(acc.CACertPEM, pki.CAPEM) || acc.InsecureSkipTLSVerify {
		t.Errorf("got CA %q, insecure %v; want the file's CA, verified", acc.CACertPEM, acc.InsecureSkipTLSVerify)
	}

	// A file that holds no certificate is refused up front.
	if err := os.WriteFile(caFile+".bad", []byte("not a certificate"), 0o444); err != nil {
		t.Fatal(err)
	}
	got.cluster.Neo4jCAFile = caFile + ".bad"
	if _, err := got.cluster.neo4jAccess(&bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "--neo4j-ca-file") {
		t.Errorf("got %v, want --neo4j-ca-file refused", err)
	}
}

// TestInsecureSkipTLSVerifyFlag: skipping certificate verification is a
// command-line flag only (never NEO4JCTL_*), and its warning reaches
// stderr once however many connections skip verification.
func TestInsecureSkipTLSVerifyFlag(t *testing.T) {
	t.Setenv("NEO4JCTL_NEO4J_INSECURE_SKIP_TLS_VERIFY", "true")
	parse := func(args ...string) *PlanOptions {
		t.Helper()
		var got *PlanOptions
		if err := runWith(t, "plan", func(f *Factory) *cobra.Command {
			return NewCmdPlan(f, func(o *PlanOptions) error { got = o; return nil })
		}, args); err != nil {
			t.Fatal(err)
		}
		return got
	}
	if o := parse("plan", "-f", "a.yaml"); o.cluster.Neo4jInsecure {
		t.Error("NEO4JCTL_NEO4J_INSECURE_SKIP_TLS_VERIFY=true skipped verification; want it ignored")
	}
	o := parse("plan", "-f", "a.yaml", "--neo4j-insecure-skip-tls-verify")
	var stderr bytes.Buffer
	acc, err := o.cluster.neo4jAccess(&stderr)
	if err != nil {
		t.Fatal(err)
	}
	if !acc.InsecureSkipTLSVerify || acc.OnUnverifiedTLS == nil {
		t.Fatalf("flag given: insecure %v, warning hook %v; want both", acc.InsecureSkipTLSVerify, acc.OnUnverifiedTLS != nil)
	}
	acc.OnUnverifiedTLS()
	acc.OnUnverifiedTLS()
	if n := strings.Count(stderr.String(), "Warning:"); n != 1 || !strings.Contains(stderr.String(), "not verified") {
		t.Errorf("stderr %q: %d warnings, want one saying certificates are not verified", stderr.String(), n)
	}
}
