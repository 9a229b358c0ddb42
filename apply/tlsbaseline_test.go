package apply

import (
	"context"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/internal/state"
	"github.com/neo4jctl/neo4jctl/plan"
	"github.com/neo4jctl/neo4jctl/plan/plantest"
)

// sentKube records the annotations of every StatefulSet apply sends.
type sentKube struct {
	*fakeKube
	stamps []string
}

func (k *sentKube) Apply(ctx context.Context, o *unstructured.Unstructured, force bool) (*unstructured.Unstructured, error) {
	if o.GetKind() == "StatefulSet" {
		k.stamps = append(k.stamps, o.GetAnnotations()[plan.AnnotationTLSCertificate])
	}
	return k.fakeKube.Apply(ctx, o, force)
}

// msgHook records the messages apply says besides the steps.
type msgHook struct {
	*recorder
	msgs []string
}

func (h *msgHook) Message(m string) { h.msgs = append(h.msgs, m) }

// stampPlan computes the plan of a converged 3-server TLS cluster whose
// StatefulSet (the one the scale-in scenario applies, graph/prod) the
// Secret's certificate stamps for the first time, with edit applied to
// the StatefulSet's observation first.
func stampPlan(t *testing.T, edit func(sts *state.Object)) *plan.Plan {
	t.Helper()
	c := plantest.Cluster(3)
	c.Spec.TLS = &clusterfile.TLS{SecretName: "certs", Scopes: []string{"bolt"}}
	k := plantest.Converged(c, 3)
	sts := plantest.Object(&k, "StatefulSet", plantest.Name)
	sts.Predicted["metadata"].(map[string]any)["annotations"] = map[string]any{plan.AnnotationTLSCertificate: "sha256:issued"}
	if edit != nil {
		edit(sts)
	}
	p, err := plan.Compute(plantest.Desired(c), k, plantest.Neo4j(3), plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// stampRendered stamps tg's rendered StatefulSet as the verifying plan's
// render does (pipeline.Runner.Plan restamps the target's objects).
func stampRendered(tg Target, fp string) {
	for _, o := range tg.Objects {
		if o.GetKind() == "StatefulSet" {
			ann := o.GetAnnotations()
			if ann == nil {
				ann = map[string]string{}
			}
			ann[plan.AnnotationTLSCertificate] = fp
			o.SetAnnotations(ann)
		}
	}
}

// TestApplyRecordsTLSBaselineOnce: the verifying plan finds only the
// first certificate stamp (cert-manager issued the Secret during the
// apply): apply sends the stamped StatefulSet once, through the hook
// under its own ID, and verifies again; the result is verified and holds
// the recorded step.
func TestApplyRecordsTLSBaselineOnce(t *testing.T) {
	p, tg := scenario(t, "scale-in")
	_, fk, n := newFakes(5)
	k := &sentKube{fakeKube: fk}
	rec := &recorder{}
	hook := &msgHook{recorder: rec}
	ex := executor(fk, n, hook)
	ex.Kube = k
	baseline := stampPlan(t, nil)
	verifies := 0
	ex.Verify = func(context.Context) (*plan.Plan, error) {
		verifies++
		if verifies == 1 {
			stampRendered(tg, "sha256:issued")
			return baseline, nil
		}
		return &plan.Plan{}, nil
	}
	before := len(p.Steps)
	res, err := ex.Apply(context.Background(), tg, p)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	if !res.Verified || verifies != 2 {
		t.Errorf("verified %v after %d verifying plans, want true after 2", res.Verified, verifies)
	}
	if n := len(k.stamps); n == 0 || k.stamps[n-1] != "sha256:issued" {
		t.Errorf("StatefulSet stamps sent %q, want the last to record sha256:issued", k.stamps)
	}
	if len(res.Steps) != before+1 || res.Steps[before].ID != "verify-s01" || res.Steps[before].Status != StatusApplied {
		t.Errorf("results %+v, want the plan's %d then verify-s01 applied", res.Steps, before)
	}
	if got := rec.started[len(rec.started)-1]; got != "verify-s01" {
		t.Errorf("the hook last saw step %q start, want verify-s01", got)
	}
	said := strings.Join(hook.msgs, "\n")
	if want := "Recorded the TLS certificate baseline issued during this apply: no restart (k8s:apps/StatefulSet/graph/prod sha256:issued)."; !strings.Contains(said, want) {
		t.Errorf("apply said %q, want %q", said, want)
	}
	if res.TLSBaseline == nil || len(res.TLSBaseline.Steps) != 1 || res.TLSBaseline.Steps[0].Address != "k8s:apps/StatefulSet/graph/prod" {
		t.Errorf("Result.TLSBaseline %+v, want the StatefulSet's step", res.TLSBaseline)
	}
}

// TestApplyVerificationOtherChangesStillFail: a verifying plan with
// anything besides the first stamp, a baseline found again after it was
// recorded, or a rendered object that does not carry the stamp, fails as
// before, with nothing more sent than the plan's steps (and the one
// baseline).
func TestApplyVerificationOtherChangesStillFail(t *testing.T) {
	image := func(sts *state.Object) {
		ctr := sts.Predicted["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
		ctr["image"] = "neo4j:5.26.1-enterprise"
	}
	for _, tc := range []struct {
		name       string
		first      func(t *testing.T) *plan.Plan
		again      bool // the second verifying plan is the baseline again
		restamp    bool
		wantSent   int // StatefulSet sends after the plan's
		wantVerify int
		wantErr    string
	}{
		{name: "stamp and an image change", first: func(t *testing.T) *plan.Plan { return stampPlan(t, image) }, restamp: true,
			wantVerify: 1, wantErr: "a fresh plan is not empty"},
		{name: "stamp and a reload", first: func(t *testing.T) *plan.Plan {
			p := stampPlan(t, nil)
			p.Steps = append(p.Steps, plan.Step{ID: "s02", Address: "neo4j:server/a", Action: plan.ActionNeo4j, Kind: plan.KindReloadTLS})
			return p
		}, restamp: true, wantVerify: 1, wantErr: "a fresh plan is not empty"},
		{name: "a renewal", first: func(t *testing.T) *plan.Plan {
			return stampPlan(t, func(sts *state.Object) {
				sts.Live["metadata"].(map[string]any)["annotations"] = map[string]any{plan.AnnotationTLSCertificate: "sha256:old"}
			})
		}, restamp: true, wantVerify: 1, wantErr: "a fresh plan is not empty"},
		{name: "baseline found again", first: func(t *testing.T) *plan.Plan { return stampPlan(t, nil) }, again: true, restamp: true,
			wantSent: 1, wantVerify: 2, wantErr: "a fresh plan is not empty"},
		{name: "rendered object not stamped", first: func(t *testing.T) *plan.Plan { return stampPlan(t, nil) },
			wantVerify: 1, wantErr: "the rendered object carries \"\"; nothing was sent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, tg := scenario(t, "scale-in")
			_, fk, n := newFakes(5)
			k := &sentKube{fakeKube: fk}
			ex := executor(fk, n, &recorder{})
			ex.Kube = k
			first := tc.first(t)
			verifies := 0
			ex.Verify = func(context.Context) (*plan.Plan, error) {
				verifies++
				if tc.restamp {
					stampRendered(tg, "sha256:issued")
				}
				if verifies == 1 || tc.again {
					return first, nil
				}
				return &plan.Plan{}, nil
			}
			res, err := ex.Apply(context.Background(), tg, p)
			planSends := 0
			for _, s := range p.Steps {
				if s.Object != nil && s.Object.Kind == "StatefulSet" && (s.Kind == plan.KindApply || s.Kind == plan.KindScaleStatefulSet) {
					planSends++
				}
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("got %v, want an error containing %q", err, tc.wantErr)
			}
			if res.Verified {
				t.Error("got Verified true")
			}
			if verifies != tc.wantVerify {
				t.Errorf("%d verifying plans, want %d", verifies, tc.wantVerify)
			}
			if got := len(k.stamps) - planSends; got != tc.wantSent {
				t.Errorf("%d StatefulSet sends after the plan's (%q), want %d", got, k.stamps, tc.wantSent)
			}
		})
	}
}
