package main

import (
	"archive/tar"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Paths and identity inside the image.
const (
	BinaryPath = "/usr/local/bin/neo4jctl"
	// AgentBinaryPath is the agent-only binary (cmd/neo4jctl-backup-agent)
	// the backup Jobs' agent container runs: `neo4jctl backup agent`'s
	// code without the rest of the CLI, in less memory.
	AgentBinaryPath = "/usr/local/bin/neo4jctl-backup-agent"
	CertsPath       = "/etc/ssl/certs/ca-certificates.crt"
	UID             = 65532
	UserName        = "nonroot"
)

// Options say what goes into the image.
type Options struct {
	Binary string
	// AgentBinary is the static neo4jctl-backup-agent; "" leaves it out.
	AgentBinary string
	CACerts     string
	Version     string
	Revision    string
	Created     time.Time
	Arch        string
}

func main() {
	var o Options
	var layoutDir, tarPath, tag string
	flag.StringVar(&o.Binary, "binary", "bin/neo4jctl", "the static neo4jctl binary (CGO_ENABLED=0)")
	flag.StringVar(&o.AgentBinary, "agent-binary", "", "the static neo4jctl-backup-agent binary, installed as "+AgentBinaryPath+" (empty: none)")
	flag.StringVar(&o.CACerts, "ca-certs", CertsPath, "CA certificate bundle to copy into the image")
	flag.StringVar(&o.Version, "version", "dev", "org.opencontainers.image.version label")
	flag.StringVar(&o.Revision, "revision", "", "org.opencontainers.image.revision label")
	flag.StringVar(&o.Arch, "arch", "amd64", "architecture of the binary")
	flag.StringVar(&layoutDir, "layout", "", "write an OCI image layout to this directory")
	flag.StringVar(&tarPath, "tarball", "", "write a docker-loadable tarball to this file")
	flag.StringVar(&tag, "tag", "ghcr.io/neo4jctl/neo4jctl:dev", "image reference recorded in the tarball")
	flag.Parse()
	if layoutDir == "" && tarPath == "" {
		fmt.Fprintln(os.Stderr, "image: give -layout DIR and/or -tarball FILE")
		os.Exit(1)
	}
	// A fixed creation time makes the image reproducible from the same
	// binary (SOURCE_DATE_EPOCH would be the next step).
	o.Created = time.Unix(0, 0).UTC()
	img, err := Build(o)
	if err == nil && layoutDir != "" {
		err = WriteLayout(layoutDir, img)
	}
	if err == nil && tarPath != "" {
		var ref name.Tag
		ref, err = name.NewTag(tag)
		if err == nil {
			err = tarball.WriteToFile(tarPath, ref, img)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
	d, _ := img.Digest()
	fmt.Println(d)
}

// Build assembles the image.
func Build(o Options) (v1.Image, error) {
	bin, err := os.ReadFile(o.Binary)
	if err != nil {
		return nil, err
	}
	certs, err := os.ReadFile(o.CACerts)
	if err != nil {
		return nil, fmt.Errorf("CA certificates: %w", err)
	}
	files := []file{
		{path: "etc/", dir: true, mode: 0o755},
		{path: "etc/passwd", data: []byte(fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\n%s:x:%d:%d:%s:/home/%s:/sbin/nologin\n", UserName, UID, UID, UserName, UserName)), mode: 0o644},
		{path: "etc/group", data: []byte(fmt.Sprintf("root:x:0:\n%s:x:%d:\n", UserName, UID)), mode: 0o644},
		{path: "etc/ssl/", dir: true, mode: 0o755},
		{path: "etc/ssl/certs/", dir: true, mode: 0o755},
		{path: "etc/ssl/certs/ca-certificates.crt", data: certs, mode: 0o644},
		{path: "home/", dir: true, mode: 0o755},
		{path: "home/" + UserName + "/", dir: true, mode: 0o700, uid: UID},
		{path: "tmp/", dir: true, mode: 0o1777},
		{path: "usr/", dir: true, mode: 0o755},
		{path: "usr/local/", dir: true, mode: 0o755},
		{path: "usr/local/bin/", dir: true, mode: 0o755},
		{path: "usr/local/bin/neo4jctl", data: bin, mode: 0o755},
	}
	if o.AgentBinary != "" {
		agent, err := os.ReadFile(o.AgentBinary)
		if err != nil {
			return nil, err
		}
		files = append(files, file{path: AgentBinaryPath[1:], data: agent, mode: 0o755})
	}
	layerTar, err := tarOf(files, o.Created)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.Append(img, mutate.Addendum{Layer: layer, History: v1.History{
		Created: v1.Time{Time: o.Created}, CreatedBy: "neo4jctl e2e/image", Comment: "neo4jctl binary, CA certificates, non-root user",
	}})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Architecture, cf.OS, cf.Created = o.Arch, "linux", v1.Time{Time: o.Created}
	cf.Config.User = fmt.Sprintf("%d:%d", UID, UID)
	cf.Config.Entrypoint = []string{BinaryPath}
	cf.Config.Cmd = []string{"watch", "--from-configmaps", "neo4jctl.io/cluster-file=true"}
	cf.Config.WorkingDir = "/home/" + UserName
	cf.Config.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "SSL_CERT_FILE=" + CertsPath, "HOME=/home/" + UserName}
	cf.Config.ExposedPorts = map[string]struct{}{"9090/tcp": {}}
	cf.Config.Labels = map[string]string{
		"org.opencontainers.image.title":       "neo4jctl",
		"org.opencontainers.image.description": "Terraform for Neo4j clusters on Kubernetes",
		"org.opencontainers.image.source":      "https://github.com/neo4jctl/neo4jctl",
		"org.opencontainers.image.licenses":    "Apache-2.0",
		"org.opencontainers.image.version":     o.Version,
		"org.opencontainers.image.revision":    o.Revision,
	}
	return mutate.ConfigFile(img, cf)
}

type file struct {
	path string
	data []byte
	dir  bool
	mode int64
	uid  int
}

// tarOf writes files as a layer: owned by root unless said otherwise,
// with one fixed modification time.
func tarOf(files []file, mtime time.Time) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{Name: f.path, Mode: f.mode, ModTime: mtime, Uid: f.uid, Gid: f.uid, Format: tar.FormatPAX}
		if f.dir {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag, h.Size = tar.TypeReg, int64(len(f.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if !f.dir {
			if _, err := tw.Write(f.data); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteLayout writes img as the only image of an OCI layout at dir.
func WriteLayout(dir string, img v1.Image) error {
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	return p.AppendImage(img)
}
