package kube

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/neo4jctl/neo4jctl/e2e/testenv"
	"github.com/neo4jctl/neo4jctl/internal/state"
)

// A converged cluster's live objects come from the inventory's member
// lists, not one GET each: they must be exactly what a GET reads, and the
// lists must still give the orphans.
func TestObserveReadsMembersFromTheInventoryLists(t *testing.T) {
	env := testenv.Shared(t)
	ns := testenv.Namespace(t, env)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	agent := "neo4jctl-members-test/" + ns
	c, err := NewForConfig(env.RESTConfig(), Options{UserAgent: agent})
	if err != nil {
		t.Fatal(err)
	}
	decode := func(doc string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
			t.Fatal(err)
		}
		u.SetNamespace(ns)
		return u
	}
	svc := decode(`
apiVersion: v1
kind: Service
metadata: {name: prod, labels: {neo4jctl.io/cluster: prod}}
spec:
  selector: {neo4jctl.io/cluster: prod}
  ports:
  - {name: bolt, port: 7687}
  - {name: http, port: 7474}
`)
	cm := decode(`
apiVersion: v1
kind: ConfigMap
metadata: {name: prod-config, labels: {neo4jctl.io/cluster: prod}}
data: {a: "1"}
`)
	old := decode(`
apiVersion: v1
kind: ConfigMap
metadata: {name: prod-old, labels: {neo4jctl.io/cluster: prod}}
data: {a: "1"}
`)
	absent := decode(`
apiVersion: v1
kind: ConfigMap
metadata: {name: prod-new, labels: {neo4jctl.io/cluster: prod}}
data: {a: "1"}
`)
	inv := InventoryRef{Namespace: ns, Cluster: "prod"}
	if err := c.EnsureInventory(ctx, inv, KindsOf([]*unstructured.Unstructured{svc, cm})); err != nil {
		t.Fatal(err)
	}
	for _, o := range []*unstructured.Unstructured{svc, cm, old} {
		if _, err := c.Apply(ctx, o, false); err != nil {
			t.Fatal(err)
		}
	}
	// Drift: another manager changes a field neo4jctl owns.
	live, err := c.dyn.Resource(configMapGVR).Namespace(ns).Get(ctx, "prod-config", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := unstructured.SetNestedField(live.Object, "2", "data", "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.dyn.Resource(configMapGVR).Namespace(ns).Update(ctx, live, metav1.UpdateOptions{FieldManager: "kubectl-edit"}); err != nil {
		t.Fatal(err)
	}

	desired := []*unstructured.Unstructured{svc, cm, absent}
	since := time.Now()
	k, err := c.Observe(ctx, desired, inv)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // the last request's audit event
	evs, err := env.AuditEvents()
	if err != nil {
		t.Fatal(err)
	}
	var gets []string
	for _, ev := range evs {
		if ev.UserAgent == agent && !ev.StageTimestamp.Before(since) && ev.Stage == "ResponseComplete" && ev.Verb == "get" && ev.ObjectRef != nil && ev.ObjectRef.Name != "" {
			gets = append(gets, ev.ObjectRef.Resource+"/"+ev.ObjectRef.Name)
		}
	}
	if diff := cmp.Diff([]string{"configmaps/" + inv.ParentName()}, gets); diff != "" {
		t.Errorf("GETs while observing a converged cluster (-want +got):\n%s", diff)
	}

	for i, u := range desired {
		p, err := c.prepare(u, ns)
		if err != nil {
			t.Fatal(err)
		}
		var want state.Object
		if live, err := c.get(ctx, p); err != nil {
			t.Fatal(err)
		} else if live != nil {
			setLive(&want, live)
		}
		got := k.Objects[i]
		if diff := cmp.Diff(want.Live, got.Live); diff != "" {
			t.Errorf("%s: live from the lists differs from a GET (-get +lists):\n%s", got.Address, diff)
		}
		if got.UID != want.UID || got.Fingerprint != want.Fingerprint || !cmp.Equal(got.Managers, want.Managers) {
			t.Errorf("%s: got uid %q fingerprint %q managers %v, want %q %q %v", got.Address,
				got.UID, got.Fingerprint, got.Managers, want.UID, want.Fingerprint, want.Managers)
		}
	}
	var orphans []string
	for _, o := range k.Orphans {
		orphans = append(orphans, o.Address)
	}
	if diff := cmp.Diff([]string{"k8s:core/ConfigMap/" + ns + "/prod-old"}, orphans); diff != "" {
		t.Errorf("orphans (-want +got):\n%s", diff)
	}
}
