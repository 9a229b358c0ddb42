package main

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/neo4jctl/neo4jctl/manifests"
)

// TestImageRoundTrip builds an image from a stand-in binary, writes the OCI
// layout and the tarball, reads both back and checks the config and the
// files a Pod needs.
func TestImageRoundTrip(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "neo4jctl")
	certs := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(bin, []byte("\x7fELF stand-in"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certs, []byte("-----BEGIN CERTIFICATE-----\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	agent := filepath.Join(dir, "neo4jctl-backup-agent")
	if err := os.WriteFile(agent, []byte("\x7fELF agent stand-in"), 0o755); err != nil {
		t.Fatal(err)
	}
	img, err := Build(Options{Binary: bin, AgentBinary: agent, CACerts: certs, Version: "1.2.3", Revision: "abc", Arch: "amd64", Created: time.Unix(0, 0).UTC()})
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteLayout(filepath.Join(dir, "layout"), img); err != nil {
		t.Fatal(err)
	}
	p, err := layout.FromPath(filepath.Join(dir, "layout"))
	if err != nil {
		t.Fatal(err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil || len(m.Manifests) != 1 {
		t.Fatalf("index: %v, %d manifests, want 1", err, len(m.Manifests))
	}
	back, err := idx.Image(m.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	tarPath := filepath.Join(dir, "image.tar")
	if err := tarball.WriteToFile(tarPath, mustTag(t, "ghcr.io/neo4jctl/neo4jctl:test"), img); err != nil {
		t.Fatal(err)
	}
	fromTar, err := tarball.ImageFromPath(tarPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		img  v1.Image
	}{{"layout", back}, {"tarball", fromTar}} {
		t.Run(c.name, func(t *testing.T) {
			cf, err := c.img.ConfigFile()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{BinaryPath}, cf.Config.Entrypoint); diff != "" {
				t.Errorf("entrypoint (-want +got):\n%s", diff)
			}
			if got, want := cf.Config.User, "65532:65532"; got != want {
				t.Errorf("user: got %q, want %q", got, want)
			}
			if cf.OS != "linux" || cf.Architecture != "amd64" {
				t.Errorf("platform: got %s/%s, want linux/amd64", cf.OS, cf.Architecture)
			}
			if got := cf.Config.Labels["org.opencontainers.image.version"]; got != "1.2.3" {
				t.Errorf("version label: got %q, want 1.2.3", got)
			}
			layers, err := c.img.Layers()
			if err != nil || len(layers) != 1 {
				t.Fatalf("layers: %v, got %d, want 1 (no base image)", err, len(layers))
			}
			files := readLayer(t, mutate.Extract(c.img))
			want := map[string]fileInfo{
				"usr/local/bin/neo4jctl":              {mode: 0o755, content: "\x7fELF stand-in"},
				"usr/local/bin/neo4jctl-backup-agent": {mode: 0o755, content: "\x7fELF agent stand-in"},
				"etc/ssl/certs/ca-certificates.crt":   {mode: 0o644, content: "-----BEGIN CERTIFICATE-----\n"},
			}
			for path, w := range want {
				g, ok := files[path]
				if !ok {
					t.Errorf("%s missing from the image", path)
					continue
				}
				if g.mode != w.mode || g.content != w.content || g.uid != 0 {
					t.Errorf("%s: got mode %o uid %d %q, want mode %o uid 0 %q", path, g.mode, g.uid, g.content, w.mode, w.content)
				}
			}
			if !strings.Contains(files["etc/passwd"].content, "nonroot:x:65532:65532:") {
				t.Errorf("/etc/passwd has no user 65532:\n%s", files["etc/passwd"].content)
			}
			if files["tmp"].mode != 0o1777 {
				t.Errorf("/tmp: want mode 1777")
			}
		})
	}
}

type fileInfo struct {
	mode    int64
	uid     int
	content string
}

func readLayer(t *testing.T, rc io.ReadCloser) map[string]fileInfo {
	t.Helper()
	defer rc.Close()
	out := map[string]fileInfo{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		out[strings.TrimSuffix(strings.TrimPrefix(h.Name, "/"), "/")] = fileInfo{mode: h.Mode, uid: h.Uid, content: string(b)}
	}
}

func mustTag(t *testing.T, s string) name.Tag {
	t.Helper()
	tag, err := name.NewTag(s)
	if err != nil {
		t.Fatal(err)
	}
	return tag
}

// TestBackupJobsRunTheImagesAgent: the backup Jobs' agent container runs
// the agent-only binary by path, so the path the image puts it at and the
// one the rendered Jobs name must be the same.
func TestBackupJobsRunTheImagesAgent(t *testing.T) {
	if manifests.AgentBinary != AgentBinaryPath {
		t.Fatalf("rendered backup Jobs run %s, the image has the agent at %s", manifests.AgentBinary, AgentBinaryPath)
	}
}
