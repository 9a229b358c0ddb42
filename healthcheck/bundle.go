package healthcheck

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/neo4jctl/neo4jctl/internal/state"
)

// Redacted replaces every credential in a support bundle.
const Redacted = "<redacted>"

// credentialName matches setting and environment variable names whose
// values are credentials (dbms.*password*, *_TOKEN, *secret*, private keys).
// "auth" alone is not one: dbms.security.auth_enabled is a switch.
var credentialName = regexp.MustCompile(`(?i)(passw(or)?d|secret|token|credential|private[._-]?key|api[._-]?key|access[._-]?key|keystore|truststore[._-]?pass|^neo4j[._-]auth$)`)

// IsCredentialName reports whether a setting or variable name holds a
// credential.
func IsCredentialName(name string) bool { return credentialName.MatchString(name) }

// minScrub is the shortest known secret value scrubbed from every file by
// value: shorter strings occur by chance everywhere (they are still
// removed by name).
const minScrub = 4

// Bundle assembles a support bundle: files, each scrubbed of every known
// secret value, and a MANIFEST of what was collected and what could not be.
type Bundle struct {
	secrets   []string
	files     []bundleFile
	collected []string
	failed    []string
	scrubbed  int
}

type bundleFile struct {
	name string
	data []byte
}

// NewBundle starts a bundle that will never hold any of secrets.
func NewBundle(secrets ...string) *Bundle {
	b := &Bundle{}
	for _, s := range secrets {
		if len(s) >= minScrub {
			b.secrets = append(b.secrets, s)
		}
	}
	// Longest first: a secret containing another is removed whole.
	sort.Slice(b.secrets, func(i, j int) bool { return len(b.secrets[i]) > len(b.secrets[j]) })
	return b
}

func (b *Bundle) scrub(data []byte) []byte {
	for _, s := range b.secrets {
		if n := bytes.Count(data, []byte(s)); n > 0 {
			b.scrubbed += n
			data = bytes.ReplaceAll(data, []byte(s), []byte(Redacted))
		}
	}
	return data
}

// Add puts a file in the bundle.
func (b *Bundle) Add(name string, data []byte) {
	data = b.scrub(append([]byte(nil), data...))
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
	b.failed = append(b.failed, fmt.Sprintf("%s: %s", name, b.scrub([]byte(err.Error()))))
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
	fmt.Fprintf(&m, "\nRedaction: Secret data is left out of every object; values of credential-like settings and environment variables are replaced by %s; %d further occurrences of a known credential were replaced.\n", Redacted, b.scrubbed)

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

// RedactSettings returns settings with the values of credential-like ones
// replaced.
func RedactSettings(in map[string]state.Setting) []state.Setting {
	out := make([]state.Setting, 0, len(in))
	for _, s := range in {
		if IsCredentialName(s.Name) {
			s.Value = Redacted
			if s.Default != "" {
				s.Default = Redacted
			}
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// RedactObject removes credentials from a Kubernetes object in place:
// a Secret's data, and the value of every environment variable with a
// credential-like name (in Pods, and in the Pod templates of StatefulSets,
// Jobs and CronJobs alike).
func RedactObject(obj map[string]any) {
	if obj["kind"] == "Secret" {
		delete(obj, "data")
		delete(obj, "stringData")
	}
	redactEnv(obj)
}

func redactEnv(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if k == "env" {
				if list, ok := val.([]any); ok {
					for _, e := range list {
						if m, ok := e.(map[string]any); ok {
							if name, _ := m["name"].(string); IsCredentialName(name) {
								if _, has := m["value"]; has {
									m["value"] = Redacted
								}
							}
						}
					}
				}
			}
			redactEnv(val)
		}
	case []any:
		for _, e := range x {
			redactEnv(e)
		}
	}
}
