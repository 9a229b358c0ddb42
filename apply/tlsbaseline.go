package apply

import (
	"context"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/neo4jctl/neo4jctl/plan"
)

// TLSBaselineMessage is what apply says when its verifying plan found only
// the TLS certificate baseline and apply recorded it.
const TLSBaselineMessage = "recorded the TLS certificate baseline issued during this apply: no restart"

// recordTLSBaseline applies the steps of a verifying plan vp that only
// records the first TLS certificate stamp of the StatefulSets
// (plan.TLSBaselineOnly). cert-manager issues a cluster's Secret only once
// the apply created its Certificate: the plan before it read no
// certificate and stamped nothing, and the verifying plan, which reads
// the now-issued Secret, plans the baseline. That is a change of the
// StatefulSet's metadata alone, which restarts and reloads nothing, so
// apply records it rather than failing the first apply of every
// cert-manager cluster.
//
// The steps run as any kind "apply" step does: the same server-side apply
// under the same field manager and the lock apply holds, reported to the
// hook (so the human and NDJSON outputs and a watch's audit see them) and
// appended to res.Steps under IDs "verify-<id>" (vp's IDs restart at s01).
// The objects sent are t's: the verifying plan re-stamped the rendered
// objects it was computed from (pipeline.Runner.Plan stamps them in
// place), and each must carry exactly the fingerprint its step records,
// or nothing is sent: objects rendered apart from the verifying plan are
// not what it checked.
func (e *Executor) recordTLSBaseline(ctx context.Context, t Target, vp *plan.Plan, res *Result) error {
	objs, err := e.objectsOf(t, vp)
	if err != nil {
		return err
	}
	for _, s := range vp.Steps {
		fp, _ := plan.TLSBaseline(s)
		o := objs[s.ID]
		if got, _, _ := unstructured.NestedString(o.Object, "metadata", "annotations", plan.AnnotationTLSCertificate); got != fp {
			return fmt.Errorf("%s: the verifying plan records the TLS certificate fingerprint %s, but the rendered object carries %q; nothing was sent", s.Address, fp, got)
		}
	}
	recorded := &plan.Plan{FormatVersion: vp.FormatVersion, Cluster: vp.Cluster, Namespace: vp.Namespace}
	var addrs []string
	for _, s := range vp.Steps {
		rs := s
		rs.ID = "verify-" + s.ID
		rs.DependsOn = nil
		e.setCurrent(rs)
		e.hook().StepStarted(rs)
		start := e.Options.Now()
		o, err := e.applyObject(ctx, rs, objs[s.ID])
		r := StepResult{ID: rs.ID, Address: rs.Address, Kind: rs.Kind, Duration: e.Options.Now().Sub(start), Status: StatusApplied,
			Note: "the TLS certificate baseline, issued during this apply"}
		if o.wrote {
			res.Wrote = true
		}
		if err != nil {
			r.Status, r.Err = StatusFailed, err
		}
		e.setCurrent(plan.Step{})
		res.Steps = append(res.Steps, r)
		recorded.Steps = append(recorded.Steps, rs)
		res.TLSBaseline = recorded
		e.hook().StepFinished(rs, r)
		if err != nil {
			return err
		}
		fp, _ := plan.TLSBaseline(s)
		addrs = append(addrs, s.Address+" "+fp)
	}
	e.hook().Message(strings.ToUpper(TLSBaselineMessage[:1]) + TLSBaselineMessage[1:] + " (" + strings.Join(addrs, ", ") + ").")
	return nil
}
