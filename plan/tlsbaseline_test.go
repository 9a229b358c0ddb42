package plan_test

import (
	"testing"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/internal/state"
	"github.com/neo4jctl/neo4jctl/plan"
	"github.com/neo4jctl/neo4jctl/plan/plantest"
)

// TestTLSBaselineOnly computes real plans for a converged 3-server TLS
// cluster whose StatefulSet gets a certificate stamp, and checks that only
// a first stamp on the StatefulSet's metadata, alone, is a baseline-only
// plan: a renewal (a roll on 5.26, reloads on 2025.10), a stamp that
// comes with any other change, and a stamp on the Pod template are not.
func TestTLSBaselineOnly(t *testing.T) {
	tmplAnn := func(o map[string]any) map[string]any {
		return o["spec"].(map[string]any)["template"].(map[string]any)["metadata"].(map[string]any)["annotations"].(map[string]any)
	}
	setRec := func(o map[string]any, v string) {
		meta := o["metadata"].(map[string]any)
		ann, _ := meta["annotations"].(map[string]any)
		if ann == nil {
			ann = map[string]any{}
			meta["annotations"] = ann
		}
		ann[plan.AnnotationTLSCertificate] = v
	}
	for _, tc := range []struct {
		name    string
		version string
		edit    func(sts *state.Object)
		want    bool
	}{
		{name: "first stamp, no annotations before", version: "5.26.0", want: true,
			edit: func(sts *state.Object) { setRec(sts.Predicted, "sha256:new") }},
		{name: "first stamp beside another annotation", version: "5.26.0", want: true,
			edit: func(sts *state.Object) {
				for _, o := range []map[string]any{sts.Live, sts.Predicted} {
					o["metadata"].(map[string]any)["annotations"] = map[string]any{"example.com/owner": "team"}
				}
				setRec(sts.Predicted, "sha256:new")
			}},
		{name: "first stamp on 2025.10", version: "2025.10.1", want: true,
			edit: func(sts *state.Object) { setRec(sts.Predicted, "sha256:new") }},
		{name: "renewal on 5.26 rolls", version: "5.26.0",
			edit: func(sts *state.Object) {
				setRec(sts.Live, "sha256:old")
				setRec(sts.Predicted, "sha256:new")
				tmplAnn(sts.Predicted)[plan.AnnotationTLSCertificate] = "sha256:new"
			}},
		{name: "renewal on 2025.10 reloads", version: "2025.10.1",
			edit: func(sts *state.Object) {
				setRec(sts.Live, "sha256:old")
				setRec(sts.Predicted, "sha256:new")
			}},
		{name: "first stamp on the Pod template too", version: "5.26.0",
			edit: func(sts *state.Object) {
				setRec(sts.Predicted, "sha256:new")
				tmplAnn(sts.Predicted)[plan.AnnotationTLSCertificate] = "sha256:new"
			}},
		{name: "first stamp with an image change", version: "5.26.0",
			edit: func(sts *state.Object) {
				setRec(sts.Predicted, "sha256:new")
				ctr := sts.Predicted["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
				ctr["image"] = "neo4j:5.26.1-enterprise"
			}},
		{name: "another annotation only", version: "5.26.0",
			edit: func(sts *state.Object) {
				sts.Predicted["metadata"].(map[string]any)["annotations"] = map[string]any{"example.com/owner": "team"}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := plantest.Cluster(3)
			c.Spec.Version, c.Spec.Image = tc.version, "neo4j:"+tc.version+"-enterprise"
			c.Spec.TLS = &clusterfile.TLS{SecretName: "certs", Scopes: []string{"bolt"}}
			k := plantest.Converged(c, 3)
			n := plantest.Neo4j(3)
			for id, s := range n.Servers {
				s.Version = tc.version
				n.Servers[id] = s
			}
			sts := plantest.Object(&k, "StatefulSet", plantest.Name)
			tc.edit(sts)
			p := mustCompute(t, plantest.Desired(c), k, n, plan.Options{})
			if !p.HasChanges() {
				t.Fatal("the edit planned nothing")
			}
			if got := plan.TLSBaselineOnly(p); got != tc.want {
				var kinds []string
				for _, s := range p.Steps {
					kinds = append(kinds, string(s.Kind)+" "+s.Address)
				}
				t.Errorf("TLSBaselineOnly = %v, want %v (steps %v, diffs %+v)", got, tc.want, kinds, p.Steps[0].FieldDiffs)
			}
			if tc.want {
				if fp, _ := plan.TLSBaseline(p.Steps[0]); fp != "sha256:new" {
					t.Errorf("TLSBaseline fingerprint %q, want sha256:new", fp)
				}
			}
		})
	}
	t.Run("not applicable", func(t *testing.T) {
		if plan.TLSBaselineOnly(nil) {
			t.Error("a nil plan is baseline-only")
		}
		p := &plan.Plan{Incomplete: true}
		if plan.TLSBaselineOnly(p) {
			t.Error("an incomplete empty plan is baseline-only")
		}
	})
}
