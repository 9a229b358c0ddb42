package helmimport

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// SecretPrefix starts the name of every release Secret Helm 3 writes:
// sh.helm.release.v1.<release>.v<revision>.
const SecretPrefix = "sh.helm.release.v1."

// ReleaseSecret is one Helm release Secret as read from the API server:
// its name, labels and the value of its "release" key (already decoded
// from the Secret's own base64 by the API client).
type ReleaseSecret struct {
	Name   string
	Labels map[string]string
	Data   []byte
}

// Release is the part of a Helm release record neo4jctl reads. Field names
// follow Helm's JSON encoding (helm.sh/helm/v3 pkg/release.Release).
type Release struct {
	Name      string         `json:"name"`
	Namespace string         `json:"namespace"`
	Version   int            `json:"version"`
	Info      ReleaseInfo    `json:"info"`
	Chart     Chart          `json:"chart"`
	Config    map[string]any `json:"config"`
	Manifest  string         `json:"manifest"`
}

// ReleaseInfo holds the release's status (deployed, superseded, failed…).
type ReleaseInfo struct {
	Status string `json:"status"`
}

// Chart is the chart recorded with the release: its metadata and its
// default values.
type Chart struct {
	Metadata ChartMetadata  `json:"metadata"`
	Values   map[string]any `json:"values"`
}

// ChartMetadata names the chart and its versions.
type ChartMetadata struct {
	Name       string `json:"name"`
	Version    string `json:"version"`
	AppVersion string `json:"appVersion"`
}

// gzipMagic starts every gzip stream; Helm compresses the record since
// Helm 3.0 but reads uncompressed ones too, and so do we.
var gzipMagic = []byte{0x1f, 0x8b, 0x08}

// DecodeRelease decodes the "release" value of a release Secret: base64
// (Helm's own, inside the Secret's), then gzip, then JSON.
func DecodeRelease(data []byte) (*Release, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(data)))
	if err != nil {
		return nil, fmt.Errorf("release record is not base64: %w", err)
	}
	if bytes.HasPrefix(raw, gzipMagic) {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("release record: %w", err)
		}
		raw, err = io.ReadAll(zr)
		if err != nil {
			return nil, fmt.Errorf("release record: %w", err)
		}
	}
	var r Release
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("release record is not Helm's JSON: %w", err)
	}
	return &r, nil
}

// EncodeRelease is DecodeRelease's inverse, as Helm's Secret driver writes
// it; tests build release Secrets with it.
func EncodeRelease(r *Release) ([]byte, error) {
	js, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if _, err := zw.Write(js); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return []byte(base64.StdEncoding.EncodeToString(buf.Bytes())), nil
}

// Newest picks, per release name, the newest revision whose status is
// deployed (Helm keeps superseded and failed revisions beside it) and
// decodes it. Releases are returned sorted by name.
func Newest(secrets []ReleaseSecret) ([]*Release, error) {
	best := map[string]ReleaseSecret{}
	bestRev := map[string]int{}
	for _, s := range secrets {
		if !strings.HasPrefix(s.Name, SecretPrefix) || s.Labels["owner"] != "helm" {
			continue
		}
		if s.Labels["status"] != "deployed" {
			continue
		}
		name := s.Labels["name"]
		rev, err := strconv.Atoi(s.Labels["version"])
		if err != nil || name == "" {
			return nil, fmt.Errorf("Secret %s: labels name/version are not Helm's", s.Name)
		}
		if _, ok := best[name]; !ok || rev > bestRev[name] {
			best[name], bestRev[name] = s, rev
		}
	}
	names := make([]string, 0, len(best))
	for n := range best {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]*Release, 0, len(names))
	for _, n := range names {
		r, err := DecodeRelease(best[n].Data)
		if err != nil {
			return nil, fmt.Errorf("Secret %s: %w", best[n].Name, err)
		}
		out = append(out, r)
	}
	return out, nil
}
