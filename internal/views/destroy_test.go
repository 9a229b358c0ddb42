package views

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/internal/lifecycle"
	"github.com/neo4jctl/neo4jctl/internal/state"
)

func destroyPlan(deleteData bool) *lifecycle.DestroyPlan {
	return lifecycle.ComputeDestroy(lifecycle.DestroyInput{Cluster: "prod", Namespace: "graph", DeleteData: deleteData,
		Observed: kube.DestroyObservation{
			InventoryFound: true,
			Members: []state.Object{
				{Address: "k8s:apps/StatefulSet/graph/prod", Group: "apps", Version: "v1", Kind: "StatefulSet", Namespace: "graph", Name: "prod"},
				{Address: "k8s:core/Service/graph/prod", Version: "v1", Kind: "Service", Namespace: "graph", Name: "prod"},
			},
			Foreign: []state.Object{{Address: "k8s:core/ConfigMap/graph/hand-made"}},
			Claims:  []state.Claim{{Name: "data-prod-0", Namespace: "graph", StatefulSet: "prod", Capacity: "10Gi"}},
		}})
}

func TestDestroyHumanView(t *testing.T) {
	v, err := NewDestroyView(FormatHuman, &bytes.Buffer{}, false)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := v.Plan(&out, destroyPlan(false)); err != nil {
		t.Fatal(err)
	}
	want := `Destroy plan for cluster graph/prod (from its inventory: only what neo4jctl applied)

1. Stop the servers
  - k8s:apps/StatefulSet/graph/prod

2. Delete Services, configuration and policies
  - k8s:core/Service/graph/prod

3. Delete the inventory last
  - k8s:core/ConfigMap/graph/neo4jctl-prod-applyset

Claims (the servers' data):
  = data-prod-0 (10Gi)  kept (pass --delete-data to delete it)

Backups: the cluster file configures no backups, so none is taken first; backups already taken are kept: destroy never deletes them.

Kept, not neo4jctl's:
  = k8s:core/ConfigMap/graph/hand-made  labelled into the cluster's ApplySet, but not applied by neo4jctl (no neo4jctl field manager, or another namespace): kept

Destroy: 3 to destroy, 1 claims kept, 1 not neo4jctl's kept.
`
	if got := out.String(); got != want {
		t.Errorf("human view:\n%s\nwant:\n%s", got, want)
	}
	out.Reset()
	_ = v.Plan(&out, destroyPlan(true))
	if !strings.Contains(out.String(), "3. Delete the data (--delete-data)\n  ! k8s:core/PersistentVolumeClaim/graph/data-prod-0") ||
		!strings.Contains(out.String(), "Destroy: 4 to destroy, 1 claims deleted") {
		t.Errorf("with --delete-data:\n%s", out.String())
	}
}

func TestDestroyJSONView(t *testing.T) {
	v, _ := NewDestroyView(FormatJSON, nil, false)
	var out bytes.Buffer
	if err := v.Plan(&out, destroyPlan(false)); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		FormatVersion string `json:"format_version"`
		Steps         []struct{ Phase, Address string }
		Claims        []struct{ Name, Action string }
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.FormatVersion != "1" || len(doc.Steps) != 3 || doc.Steps[2].Phase != "inventory" || doc.Claims[0].Action != "keep" {
		t.Errorf("json: %+v", doc)
	}
}
