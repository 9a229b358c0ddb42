package plan

import (
	"slices"
	"strings"
	"testing"

	"github.com/neo4jctl/neo4jctl/internal/state"
)

func verifyObj(kind, group, ns, name string, live, predicted map[string]any) state.Object {
	g := group
	if g == "" {
		g = "core"
	}
	addr := "k8s:" + g + "/" + kind + "/" + name
	if ns != "" {
		addr = "k8s:" + g + "/" + kind + "/" + ns + "/" + name
	}
	desired := map[string]any{"kind": kind, "metadata": map[string]any{"name": name}}
	return state.Object{Address: addr, Group: group, Version: "v1", Kind: kind, Namespace: ns, Name: name,
		Desired: desired, Live: live, Predicted: predicted}
}

// A scratch namespace the plan creates: it comes first, and the objects in
// it, which the API server could not dry-run, are creates that depend on
// it and say why they were not dry-run; the Role in the cluster's
// namespace was dry-run and depends on nothing. Counted in the summary.
func TestAppendVerificationNewNamespace(t *testing.T) {
	p := &Plan{Steps: []Step{{ID: "s01", Address: "k8s:apps/StatefulSet/prod/db", Action: ActionUpdate, Kind: KindApply}}}
	p.Summary = summarize(p.Steps)
	ns := verifyObj("Namespace", "", "", "neo4jctl-verify-prod-db", nil, map[string]any{"kind": "Namespace"})
	cj := verifyObj("CronJob", "batch", "neo4jctl-verify-prod-db", "neo4jctl-verify", nil, nil)
	cj.DryRunError = `namespaces "neo4jctl-verify-prod-db" not found`
	role := verifyObj("Role", "rbac.authorization.k8s.io", "prod", "db-verify-secrets", nil, map[string]any{"kind": "Role"})
	AppendVerification(p, VerificationObserved{Scratch: "neo4jctl-verify-prod-db", Objects: []state.Object{ns, cj, role}})

	if len(p.Refusals) != 0 {
		t.Fatalf("refusals: %+v", p.Refusals)
	}
	var ids, addrs []string
	for _, s := range p.Steps[1:] {
		ids, addrs = append(ids, s.ID), append(addrs, s.Address)
		if s.Action != ActionCreate || s.Kind != KindApply || s.Sequence != SequenceVerification {
			t.Errorf("%s: %s %s %q, want a create in the verification sequence", s.Address, s.Action, s.Kind, s.Sequence)
		}
	}
	if want := []string{"s02", "s03", "s04"}; !slices.Equal(ids, want) {
		t.Errorf("ids %v, want %v", ids, want)
	}
	if want := []string{ns.Address, cj.Address, role.Address}; !slices.Equal(addrs, want) {
		t.Errorf("order %v, want %v (the Namespace first)", addrs, want)
	}
	if got := p.Steps[2]; !slices.Equal(got.DependsOn, []string{"s02"}) || !strings.Contains(got.Reason, "not dry-run: its namespace neo4jctl-verify-prod-db is created by this plan") {
		t.Errorf("CronJob step %+v: want it to depend on the Namespace and say it was not dry-run", got)
	}
	if got := p.Steps[3]; len(got.DependsOn) != 0 || strings.Contains(got.Reason, "not dry-run") {
		t.Errorf("Role step %+v: want no dependency, dry-run", got)
	}
	if p.Summary.Add != 3 || p.Summary.Change != 1 {
		t.Errorf("summary %+v, want 3 to add, 1 to change", p.Summary)
	}
}

// Objects as the file says: no step. One changed out of band: an update
// naming the field. A dry run refused in an existing
// namespace: a refusal, not a create.
func TestAppendVerificationInSyncChangedRefused(t *testing.T) {
	same := map[string]any{"kind": "CronJob", "spec": map[string]any{"schedule": "30 4 * * *"}}
	edited := map[string]any{"kind": "CronJob", "spec": map[string]any{"schedule": "0 1 * * *"}}
	nsLive := map[string]any{"kind": "Namespace"}
	ns := verifyObj("Namespace", "", "", "scratch", nsLive, nsLive)
	sa := verifyObj("ServiceAccount", "", "scratch", "neo4jctl-verify", same, same)
	cj := verifyObj("CronJob", "batch", "scratch", "neo4jctl-verify", edited, same)

	p := &Plan{}
	AppendVerification(p, VerificationObserved{Scratch: "scratch", Objects: []state.Object{ns, sa}})
	if len(p.Steps) != 0 || len(p.Refusals) != 0 {
		t.Fatalf("in sync: steps %+v refusals %+v, want none", p.Steps, p.Refusals)
	}
	AppendVerification(p, VerificationObserved{Scratch: "scratch", Objects: []state.Object{ns, sa, cj}})
	if len(p.Steps) != 1 || p.Steps[0].Action != ActionUpdate || len(p.Steps[0].FieldDiffs) != 1 || p.Steps[0].FieldDiffs[0].Path != "spec.schedule" {
		t.Fatalf("changed: %+v, want one update of spec.schedule", p.Steps)
	}

	bad := verifyObj("ConfigMap", "", "scratch", "neo4jctl-verify-cluster", nil, nil)
	bad.DryRunError = "exceeded quota"
	p = &Plan{}
	AppendVerification(p, VerificationObserved{Scratch: "scratch", Objects: []state.Object{ns, bad}})
	if len(p.Steps) != 0 || len(p.Refusals) != 1 || p.Refusals[0].Address != bad.Address {
		t.Errorf("refused dry run in an existing namespace: steps %+v refusals %+v, want one refusal", p.Steps, p.Refusals)
	}
}

// Without a schedule: deletes of what a schedule put there, the scratch
// Namespace saying it takes everything in it and holds no data.
func TestAppendVerificationStale(t *testing.T) {
	live := map[string]any{"kind": "x"}
	p := &Plan{}
	AppendVerification(p, VerificationObserved{Scratch: "scratch", Stale: []state.Object{
		verifyObj("RoleBinding", "rbac.authorization.k8s.io", "prod", "db-verify-secrets", live, nil),
		verifyObj("Namespace", "", "", "scratch", live, nil),
	}})
	if len(p.Steps) != 2 || p.Summary.Destroy != 2 {
		t.Fatalf("steps %+v summary %+v, want two deletes", p.Steps, p.Summary)
	}
	for _, s := range p.Steps {
		if s.Kind != KindDeleteVerification || s.Action != ActionDelete {
			t.Errorf("%s: %s %s, want delete-verification", s.Address, s.Action, s.Kind)
		}
	}
	if !strings.Contains(p.Steps[1].Reason, "no data") {
		t.Errorf("the Namespace's reason %q does not say it holds no data", p.Steps[1].Reason)
	}
}

// --target and --exclude keep or drop the verification steps together.
func TestAppendVerificationTargets(t *testing.T) {
	objs := func() VerificationObserved {
		return VerificationObserved{Scratch: "scratch", Objects: []state.Object{
			verifyObj("Namespace", "", "", "scratch", nil, map[string]any{"kind": "Namespace"}),
			verifyObj("CronJob", "batch", "scratch", "neo4jctl-verify", nil, map[string]any{"kind": "CronJob"}),
		}}
	}
	for _, tt := range []struct {
		name              string
		targets, excludes []string
		want              int
	}{
		{"none", nil, nil, 2},
		{"another target", []string{"k8s:apps/StatefulSet/prod/db"}, nil, 0},
		{"the CronJob", []string{"k8s:batch/CronJob/scratch/neo4jctl-verify"}, nil, 2},
		{"excluded", nil, []string{"k8s:core/Namespace/scratch"}, 0},
	} {
		p := &Plan{}
		v := objs()
		v.Targets, v.Excludes = tt.targets, tt.excludes
		AppendVerification(p, v)
		if len(p.Steps) != tt.want {
			t.Errorf("%s: %d steps, want %d", tt.name, len(p.Steps), tt.want)
		}
	}
}
