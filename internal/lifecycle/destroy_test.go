package lifecycle

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/internal/state"
)

func member(group, kind, name string, live map[string]any) state.Object {
	gvk := kube.Ref{Group: group, Version: "v1", Kind: kind}.GVK()
	return state.Object{Address: kube.Address(gvk, "graph", name), Group: group, Version: "v1", Kind: kind,
		Namespace: "graph", Name: name, UID: "uid-" + name, Live: live}
}

func observed() kube.DestroyObservation {
	return kube.DestroyObservation{
		InventoryFound: true,
		Members: []state.Object{
			member("", "Service", "prod", nil),
			member("", "ConfigMap", "prod-config", nil),
			member("apps", "StatefulSet", "prod-core", map[string]any{"spec": map[string]any{}}),
			member("policy", "PodDisruptionBudget", "prod", nil),
		},
		Foreign: []state.Object{member("", "ConfigMap", "hand-made", nil)},
		Claims: []state.Claim{
			{Name: "data-prod-core-0", Namespace: "graph", UID: "c0", StatefulSet: "prod-core", Ordinal: 0, Capacity: "10Gi"},
			{Name: "data-prod-core-1", Namespace: "graph", UID: "c1", StatefulSet: "prod-core", Ordinal: 1, Capacity: "10Gi"},
		},
	}
}

func addrs(p *DestroyPlan) []string {
	var out []string
	for _, s := range p.Steps {
		out = append(out, string(s.Phase)+" "+s.Address)
	}
	return out
}

func TestComputeDestroyOrderAndClaims(t *testing.T) {
	tests := []struct {
		name       string
		deleteData bool
		want       []string
		claims     string
	}{
		{
			name: "claims kept by default",
			want: []string{
				"workloads k8s:apps/StatefulSet/graph/prod-core",
				"services-and-config k8s:core/ConfigMap/graph/prod-config",
				"services-and-config k8s:core/Service/graph/prod",
				"services-and-config k8s:policy/PodDisruptionBudget/graph/prod",
				"inventory k8s:core/ConfigMap/graph/neo4jctl-prod-applyset",
			},
			claims: "keep",
		},
		{
			name:       "delete-data deletes the claims after the rest, before the inventory",
			deleteData: true,
			want: []string{
				"workloads k8s:apps/StatefulSet/graph/prod-core",
				"services-and-config k8s:core/ConfigMap/graph/prod-config",
				"services-and-config k8s:core/Service/graph/prod",
				"services-and-config k8s:policy/PodDisruptionBudget/graph/prod",
				"data k8s:core/PersistentVolumeClaim/graph/data-prod-core-0",
				"data k8s:core/PersistentVolumeClaim/graph/data-prod-core-1",
				"inventory k8s:core/ConfigMap/graph/neo4jctl-prod-applyset",
			},
			claims: "delete",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := ComputeDestroy(DestroyInput{Cluster: "prod", Namespace: "graph", Observed: observed(), DeleteData: tt.deleteData})
			if diff := cmp.Diff(tt.want, addrs(p)); diff != "" {
				t.Errorf("steps (-want +got):\n%s", diff)
			}
			for _, c := range p.Claims {
				if c.Action != tt.claims {
					t.Errorf("claim %s: got %s, want %s", c.Name, c.Action, tt.claims)
				}
			}
			if len(p.Survivors) != 1 || p.Survivors[0].Address != "k8s:core/ConfigMap/graph/hand-made" {
				t.Errorf("survivors = %+v, want the foreign ConfigMap", p.Survivors)
			}
			if p.ConfirmName != "prod" || len(p.Refusals) != 0 {
				t.Errorf("confirm name %q, refusals %v", p.ConfirmName, p.Refusals)
			}
			if p.Backups.BackupFirst || !strings.Contains(p.Backups.Note, "kept") {
				t.Errorf("backups = %+v, want no backup step and a note that backups are kept", p.Backups)
			}
		})
	}
}

// TestComputeDestroyRefusesRetentionDelete: a StatefulSet whose retention
// policy deletes its claims would take the data with it; without
// --delete-data that is refused.
func TestComputeDestroyRefusesRetentionDelete(t *testing.T) {
	obs := observed()
	obs.Members[2].Live = map[string]any{"spec": map[string]any{"persistentVolumeClaimRetentionPolicy": map[string]any{"whenDeleted": "Delete"}}}
	p := ComputeDestroy(DestroyInput{Cluster: "prod", Namespace: "graph", Observed: obs})
	if len(p.Refusals) != 1 || !strings.Contains(p.Refusals[0].Fix, "--delete-data") {
		t.Fatalf("refusals = %+v, want one naming --delete-data", p.Refusals)
	}
	if err := (&Destroyer{Kube: &fakeKube{}}).Execute(context.Background(), p); err == nil {
		t.Error("Execute ran a refused plan")
	}
	p = ComputeDestroy(DestroyInput{Cluster: "prod", Namespace: "graph", Observed: obs, DeleteData: true})
	if len(p.Refusals) != 0 {
		t.Errorf("with --delete-data: refusals %+v, want none", p.Refusals)
	}
}

func TestComputeDestroyBackupFirst(t *testing.T) {
	p := ComputeDestroy(DestroyInput{Cluster: "prod", Namespace: "graph", Observed: observed(), Backups: true})
	if p.Steps[0].Phase != PhaseBackup || !p.Backups.BackupFirst {
		t.Fatalf("first step %+v, backups %+v: want a backup first", p.Steps[0], p.Backups)
	}
	err := (&Destroyer{Kube: &fakeKube{}}).Execute(context.Background(), p)
	if !errors.Is(err, ErrNoBackup) {
		t.Errorf("Execute without a backup function: %v, want ErrNoBackup", err)
	}
	p = ComputeDestroy(DestroyInput{Cluster: "prod", Namespace: "graph", Observed: observed(), Backups: true, SkipBackup: true})
	if p.Steps[0].Phase == PhaseBackup || !p.Backups.Skipped || !strings.Contains(p.Backups.Note, "--skip-backup") {
		t.Errorf("with --skip-backup: first step %+v, backups %+v", p.Steps[0], p.Backups)
	}
}

// fakeKube records deletes and fails the one named in failOn.
type fakeKube struct {
	deleted []string
	failOn  string
}

func (f *fakeKube) do(name string) error {
	if name == f.failOn {
		return errors.New("connection reset")
	}
	f.deleted = append(f.deleted, name)
	return nil
}
func (f *fakeKube) Delete(_ context.Context, r kube.Ref) error { return f.do(r.Name) }
func (f *fakeKube) DeleteClaim(_ context.Context, _, name, _, _ string) error {
	return f.do(name)
}
func (f *fakeKube) DeleteInventory(_ context.Context, inv kube.InventoryRef) error {
	return f.do(inv.ParentName())
}

// TestDestroyStopsAtTheFirstFailure: a failed delete stops the phases
// after it; the inventory stays so a rerun finds what is left.
func TestDestroyStopsAtTheFirstFailure(t *testing.T) {
	p := ComputeDestroy(DestroyInput{Cluster: "prod", Namespace: "graph", Observed: observed(), DeleteData: true})
	k := &fakeKube{failOn: "prod"}
	err := (&Destroyer{Kube: k}).Execute(context.Background(), p)
	if err == nil || !strings.Contains(err.Error(), "run destroy again") {
		t.Fatalf("err = %v, want a failure saying to run destroy again", err)
	}
	if diff := cmp.Diff([]string{"prod-core", "prod-config"}, k.deleted); diff != "" {
		t.Errorf("deleted (-want +got):\n%s", diff)
	}
}
