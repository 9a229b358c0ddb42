package healthcheck

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/neo4jctl/neo4jctl/internal/state"
	"github.com/neo4jctl/neo4jctl/plan"
)

// Redaction is plan's (plan/redact.go, documented in docs/plan-json.md,
// "Redaction"): one set of patterns for plans, drift, render and the
// support bundle. The bundle adds only what a bundle needs beyond a plan:
// Secret objects lose their data outright instead of having it masked.

// Bundle assembles a support bundle: files, each with every credential
// replaced by plan.Sensitive, and a MANIFEST of what was collected and
// what could not be.
type Bundle struct {
	files     []bundleFile
	collected []string
	failed    []string
	// redacted counts the credentials replaced inside the files' text
	// when they were added (objects and settings are redacted before).
	redacted int
}

type bundleFile struct {
	name string
	data []byte
}

// NewBundle starts a bundle that will never hold any of secrets (the
// values neo4jctl knows for the cluster: the Neo4j password): they are
// registered with plan.RegisterSecretValue, so every output of the process
// hides them too.
func NewBundle(secrets ...string) *Bundle {
	for _, s := range secrets {
		plan.RegisterSecretValue(s)
	}
	return &Bundle{}
}

// redact returns text with every credential plan.RedactText knows
// replaced, and counts the replacements.
func (b *Bundle) redact(text string) string {
	out := plan.RedactText(text)
	b.redacted += strings.Count(out, plan.Sensitive) - strings.Count(text, plan.Sensitive)
	return out
}

// Add puts a file in the bundle.
func (b *Bundle) Add(name string, data []byte) {
	data = []byte(b.redact(string(data)))
	b.files = append(b.files, bundleFile{name, data})
	b.collected = append(b.collected, fmt.Sprintf("%s (%d bytes)", name, len(data)))
}

// AddJSON puts v, indented, in the bundle.
func (b *Bundle) AddJSON(name string, v any) {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		b.Failed(name, err)
		return
	}
	b.Add(name, append(data, '\n'))
}

// Failed records that name could not be collected, and why.
func (b *Bundle) Failed(name string, err error) {
	b.failed = append(b.failed, fmt.Sprintf("%s: %s", name, b.redact(err.Error())))
}

// Write writes the bundle as a gzipped tar, MANIFEST first, every file
// under dir/.
func (b *Bundle) Write(w io.Writer, dir string, now time.Time, header string) error {
	return WriteBundles(w, now, BundlePart{Dir: dir, Header: header, Bundle: b})
}

// BundlePart is one cluster's bundle in a fleet's archive.
type BundlePart struct {
	Dir, Header string
	Bundle      *Bundle
}

// WriteBundles writes several bundles as one gzipped tar, each under its
// own directory with its own MANIFEST.
func WriteBundles(w io.Writer, now time.Time, parts ...BundlePart) error {
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	for _, p := range parts {
		if err := p.Bundle.writeTo(tw, p.Dir, now, p.Header); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

func (b *Bundle) writeTo(tw *tar.Writer, dir string, now time.Time, header string) error {
	var m strings.Builder
	m.WriteString(header)
	fmt.Fprintf(&m, "Collected at %s.\n\nCollected:\n", now.UTC().Format(time.RFC3339))
	for _, c := range b.collected {
		fmt.Fprintf(&m, "  %s\n", c)
	}
	m.WriteString("\nNot collected:\n")
	if len(b.failed) == 0 {
		m.WriteString("  (nothing: everything was collected)\n")
	}
	for _, f := range b.failed {
		fmt.Fprintf(&m, "  %s\n", f)
	}
	fmt.Fprintf(&m, "\nRedaction: Secret data is left out of every object; credentials are replaced by %s as in plans (values of credential-named settings, ConfigMap keys and environment variables; credential-named keys, flags and URL passwords inside any value; the Neo4j password wherever it occurs); %d further credentials were replaced inside the collected files' text.\n", plan.Sensitive, b.redacted)

	put := func(name string, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Name: dir + "/" + name, Mode: 0o644, Size: int64(len(data)), ModTime: now, Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	if err := put("MANIFEST", []byte(m.String())); err != nil {
		return err
	}
	for _, f := range b.files {
		if err := put(f.name, f.data); err != nil {
			return err
		}
	}
	return nil
}

// RedactSettings returns settings, sorted by name, with every credential
// hidden as a plan hides it (plan.RedactSetting): the whole value of a
// credential-named setting, and credentials inside any other value
// (server.jvm.additional's -Dfoo.password=…).
func RedactSettings(in map[string]state.Setting) []state.Setting {
	out := make([]state.Setting, 0, len(in))
	for _, s := range in {
		s.Value = plan.RedactSetting(s.Name, s.Value)
		if s.Default != "" {
			s.Default = plan.RedactSetting(s.Name, s.Default)
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// RedactObject returns a copy of a Kubernetes object for the bundle,
// redacted as a plan redacts objects (plan.RedactLiveObject). A Secret
// also loses its data, stringData and last-applied annotation (which
// repeats them): a bundle has no use for even their keys' masked values.
func RedactObject(obj map[string]any) map[string]any {
	out := plan.RedactLiveObject(obj)
	if out["kind"] == "Secret" {
		delete(out, "data")
		delete(out, "stringData")
		if md, ok := out["metadata"].(map[string]any); ok {
			if ann, ok := md["annotations"].(map[string]any); ok {
				delete(ann, "kubectl.kubernetes.io/last-applied-configuration")
			}
		}
	}
	return out
}
