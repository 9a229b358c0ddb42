package lifecycle

import (
	"context"
	"testing"

	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/internal/state"
	"github.com/neo4jctl/neo4jctl/manifests"
)

// The backup verification objects are deleted after the cluster's
// configuration and before the claims and the inventory, by their labels
// (they are no ApplySet members), with the cluster's check.
func TestComputeDestroyVerificationObjects(t *testing.T) {
	ns := state.Object{Address: "k8s:core/Namespace/neo4jctl-verify-graph-prod", Version: "v1", Kind: "Namespace", Name: "neo4jctl-verify-graph-prod", UID: "u1"}
	role := state.Object{Address: "k8s:rbac.authorization.k8s.io/Role/graph/prod-verify-secrets", Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "Role", Namespace: "graph", Name: "prod-verify-secrets", UID: "u2"}
	p := ComputeDestroy(DestroyInput{Cluster: "prod", Namespace: "graph", Observed: observed(), DeleteData: true, Verification: []state.Object{role, ns}})
	var phases []Phase
	seen := map[string]bool{}
	for _, s := range p.Steps {
		if s.Action == ActionDeleteVerification {
			seen[s.Address] = s.Phase == PhaseVerification
		}
		if len(phases) == 0 || phases[len(phases)-1] != s.Phase {
			phases = append(phases, s.Phase)
		}
	}
	if !seen[ns.Address] || !seen[role.Address] {
		t.Fatalf("steps %+v: want both verification objects deleted in their phase", p.Steps)
	}
	want := []Phase{PhaseWorkloads, PhaseConfig, PhaseVerification, PhaseData, PhaseInventory}
	if len(phases) != len(want) {
		t.Fatalf("phases %v, want %v", phases, want)
	}
	for i := range want {
		if phases[i] != want[i] {
			t.Fatalf("phases %v, want %v", phases, want)
		}
	}

	// Execute checks the cluster's verification labels on the live object.
	fk := &verifyFake{}
	d := &Destroyer{Kube: fk}
	if err := d.run(context.Background(), p, DestroyStep{Action: ActionDeleteVerification, Version: "v1", Kind: "Namespace", Name: ns.Name, UID: "u1"}); err != nil {
		t.Fatal(err)
	}
	if fk.ref.Name != ns.Name || fk.ref.UID != "u1" {
		t.Errorf("deleted %+v", fk.ref)
	}
	c := map[string]string{manifests.LabelComponent: manifests.VerifyComponent, manifests.LabelInstance: "prod", manifests.LabelManagedBy: manifests.ManagedBy}
	c["neo4jctl.io/verify-namespace"] = "graph"
	if !fk.owned(c) {
		t.Error("the check refuses the cluster's own verification object")
	}
	c[manifests.LabelInstance] = "other"
	if fk.owned(c) {
		t.Error("the check accepts another cluster's verification object")
	}
}

type verifyFake struct {
	DestroyKube
	ref   kube.Ref
	owned func(map[string]string) bool
}

func (f *verifyFake) DeleteLabelled(_ context.Context, ref kube.Ref, owned func(map[string]string) bool) error {
	f.ref, f.owned = ref, owned
	return nil
}
