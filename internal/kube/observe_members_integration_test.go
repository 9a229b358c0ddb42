package kube

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
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
	rvs := map[string]string{} // resource/name → the resourceVersion last written
	for _, o := range []*unstructured.Unstructured{svc, cm, old} {
		got, err := c.Apply(ctx, o, false)
		if err != nil {
			t.Fatal(err)
		}
		rvs[strings.ToLower(o.GetKind())+"s/"+o.GetName()] = got.GetResourceVersion()
	}
	// Drift: another manager changes a field neo4jctl owns.
	live, err := c.dyn.Resource(configMapGVR).Namespace(ns).Get(ctx, "prod-config", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := unstructured.SetNestedField(live.Object, "2", "data", "a"); err != nil {
		t.Fatal(err)
	}
	edited, err := c.dyn.Resource(configMapGVR).Namespace(ns).Update(ctx, live, metav1.UpdateOptions{FieldManager: "kubectl-edit"})
	if err != nil {
		t.Fatal(err)
	}
	rvs["configmaps/prod-config"] = edited.GetResourceVersion()
	// The observation lists from the watch cache and reads again, with a
	// GET, an object the cache is behind on: let the cache catch up first,
	// so that the GETs counted below are the ones every observation makes.
	waitForCache(t, ctx, c, ns, rvs)

	desired := []*unstructured.Unstructured{svc, cm, absent}
	// A plan is a process of its own: a client that has not written (one
	// that has lists consistently, for its verifying plan).
	planner, err := NewForConfig(env.RESTConfig(), Options{UserAgent: agent})
	if err != nil {
		t.Fatal(err)
	}
	since := time.Now()
	k, err := planner.Observe(ctx, desired, inv)
	if err != nil {
		t.Fatal(err)
	}
	// getsSince returns the GETs of named objects the clients made since.
	getsSince := func(since time.Time) []string {
		t.Helper()
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
		return gets
	}
	gets := getsSince(since)
	sort.Strings(gets)
	// The parent, and the orphan: found in a list from the watch cache,
	// it is confirmed with a GET before it is planned for pruning. The
	// Service, untouched since it was applied, is not dry-run: listed from
	// the watch cache, it is read again with a GET before it is trusted
	// (provablyUnchanged).
	if diff := cmp.Diff([]string{"configmaps/" + inv.ParentName(), "configmaps/prod-old", "services/prod"}, gets); diff != "" {
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

	// The client that wrote (a verifying plan) lists consistently: its
	// orphans need no GET to confirm them.
	since = time.Now()
	k, err = c.Observe(ctx, desired, inv)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"configmaps/" + inv.ParentName()}, getsSince(since)); diff != "" {
		t.Errorf("GETs of the writing client's observation (-want +got):\n%s", diff)
	}
	if len(k.Orphans) != 1 {
		t.Errorf("the writing client's observation found %d orphans, want 1", len(k.Orphans))
	}
}

// waitForCache waits until lists served from the watch cache show every
// object of rvs ("configmaps/name" → resourceVersion) at that version.
func waitForCache(t *testing.T, ctx context.Context, c *Client, ns string, rvs map[string]string) {
	t.Helper()
	for key, rv := range rvs {
		resource, name, _ := strings.Cut(key, "/")
		gvr := schema.GroupVersionResource{Version: "v1", Resource: resource}
		for {
			list, err := c.dyn.Resource(gvr).Namespace(ns).List(ctx, metav1.ListOptions{ResourceVersion: "0"})
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, u := range list.Items {
				found = found || (u.GetName() == name && u.GetResourceVersion() == rv)
			}
			if found {
				break
			}
			select {
			case <-ctx.Done():
				t.Fatalf("the watch cache never showed %s at resourceVersion %s", key, rv)
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
}
