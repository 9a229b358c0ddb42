package clusterfile

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzLoad checks that no input makes Load panic, and that it always
// returns exactly one of a cluster or a non-empty *ErrorList whose
// entries all say what is wrong. The seeds are every valid and invalid
// testdata file, plus testdata/fuzz/FuzzLoad.
func FuzzLoad(f *testing.F) {
	for _, dir := range []string{"valid", "invalid"} {
		for _, file := range clusterFiles(f, filepath.Join("testdata", dir)) {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Load("fuzz.yaml", data)
		switch {
		case c == nil && err == nil:
			t.Fatal("got neither a cluster nor an error")
		case c != nil && err != nil:
			t.Fatalf("got a cluster and an error: %v", err)
		case err != nil:
			var list *ErrorList
			if !errors.As(err, &list) || len(list.Errors) == 0 {
				t.Fatalf("got %T %v, want a non-empty *ErrorList", err, err)
			}
			for _, e := range list.Errors {
				if e.Problem == "" {
					t.Errorf("error without a problem: %#v", e)
				}
			}
		default:
			// A valid cluster stays valid and unchanged through another
			// round of Default, the invariant Load's callers rely on.
			if err := c.Validate(); err != nil {
				t.Fatalf("Load returned a cluster that Validate refuses: %v", err)
			}
			again := *c
			again.Spec = cloneSpec(t, c.Spec)
			Default(&again)
			if diff := cmp.Diff(c.Spec, again.Spec); diff != "" {
				t.Fatalf("Default is not idempotent (-once +twice):\n%s", diff)
			}
		}
	})
}

// cloneSpec deep-copies a Spec through JSON, which its tags round-trip.
func cloneSpec(t *testing.T, s Spec) Spec {
	t.Helper()
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var out Spec
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}
