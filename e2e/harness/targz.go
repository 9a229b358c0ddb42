package harness

import (
	"archive/tar"
	"compress/gzip"
	"io"
	"testing"
)

// ReadTarGz returns every file of a gzipped tar (a support bundle) by
// name: the bundle's unit tests and the report command's end-to-end test
// read it the same way.
func ReadTarGz(t testing.TB, r io.Reader) map[string]string {
	t.Helper()
	gz, err := gzip.NewReader(r)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	out := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out[h.Name] = string(b)
	}
}
