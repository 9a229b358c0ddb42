package clusterfile

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// clusterFiles lists the cluster files (YAML or JSON) in dir.
func clusterFiles(t testing.TB, dir string) []string {
	t.Helper()
	var files []string
	for _, pattern := range []string{"*.yaml", "*.json"} {
		m, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range m {
			if !strings.HasSuffix(f, ".golden.json") {
				files = append(files, f)
			}
		}
	}
	if len(files) == 0 {
		t.Fatalf("no cluster files in %s", dir)
	}
	return files
}

// golden compares got with the golden file, or rewrites it with -update.
func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got, go test -update to accept):\n%s", path, diff)
	}
}

// TestLoadValid loads every valid file and compares the defaulted cluster
// with its golden JSON, which is also the reference for what Default does.
func TestLoadValid(t *testing.T) {
	for _, file := range clusterFiles(t, filepath.Join("testdata", "valid")) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			c, err := LoadFile(file)
			if err != nil {
				t.Fatalf("LoadFile(%s): got error\n%v\nwant none", file, err)
			}
			if c.Source == nil || c.Source.File != file {
				t.Errorf("Source: got %+v, want the positions of %s", c.Source, file)
			}
			got, err := json.MarshalIndent(c, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, strings.TrimSuffix(file, filepath.Ext(file))+".golden.json", string(got)+"\n")
		})
	}
}

// TestLoadInvalid loads every invalid file and compares the full error
// text, one problem per line, with its golden file.
func TestLoadInvalid(t *testing.T) {
	for _, file := range clusterFiles(t, filepath.Join("testdata", "invalid")) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			c, err := LoadFile(file)
			if err == nil {
				t.Fatalf("LoadFile(%s): got no error, want one", file)
			}
			if c != nil {
				t.Errorf("LoadFile(%s): got a cluster with an error, want nil", file)
			}
			var list *ErrorList
			if !errors.As(err, &list) || len(list.Errors) == 0 {
				t.Fatalf("LoadFile(%s): got %T %v, want a non-empty *ErrorList", file, err, err)
			}
			for _, e := range list.Errors {
				if e.File != file {
					t.Errorf("%v: File: got %q, want %q", e, e.File, file)
				}
			}
			golden(t, strings.TrimSuffix(file, filepath.Ext(file))+".golden", err.Error()+"\n")
		})
	}
}

// TestLoadManyErrors pins the requirement: one run reports every
// problem, not the first.
func TestLoadManyErrors(t *testing.T) {
	_, err := LoadFile(filepath.Join("testdata", "invalid", "many-errors.yaml"))
	var list *ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("got %v, want an *ErrorList", err)
	}
	if got := len(list.Errors); got < 3 {
		t.Errorf("got %d errors, want at least 3:\n%v", got, err)
	}
	for i := 1; i < len(list.Errors); i++ {
		a, b := list.Errors[i-1], list.Errors[i]
		if a.Line > b.Line || a.Line == b.Line && a.Path > b.Path {
			t.Errorf("errors not sorted by line then path: %v before %v", a, b)
		}
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
