package clusterfile

import (
	"strings"
	"testing"
)

func TestImageReferences(t *testing.T) {
	digest := "sha256:" + strings.Repeat("0123456789abcdef", 4)
	for _, tc := range []struct {
		ref  string
		want string // "" when valid, else a part of the problem
	}{
		{"neo4j:5.26.0-enterprise", ""},
		{"neo4j:5.26.0-enterprise@" + digest, ""},
		{"registry.example.com:5000/mirror/neo4j@" + digest, ""},
		{"neo4j@sha256:abc", "malformed digest"},
		{"neo4j@md5:" + strings.Repeat("a", 32), "malformed digest"},
		{"Neo4j:5.26", "not an image reference"},
		{"neo4j:5.26 enterprise", "not an image reference"},
	} {
		v := &validator{}
		v.image("spec.image", tc.ref)
		switch {
		case tc.want == "" && len(v.errs) > 0:
			t.Errorf("%s: got %v, want valid", tc.ref, v.errs[0])
		case tc.want != "" && (len(v.errs) != 1 || !strings.Contains(v.errs[0].Problem, tc.want)):
			t.Errorf("%s: got %v, want one problem with %q", tc.ref, v.errs, tc.want)
		}
	}
}
