package kube

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/neo4jctl/neo4jctl/internal/state"
)

// TestPrefetchedLeavesAdoptedClustersToTheirOwnLists: a fleet's Pods and
// claims are listed by the cluster label, which an adopted Helm cluster's
// do not carry. Taking "none of them" from those lists would hide every
// server of the cluster (no Ready Pod to reach Neo4j through, no claim to
// check): the prefetch must say it does not hold them, so that they are
// listed by the inventory's own selectors.
func TestPrefetchedLeavesAdoptedClustersToTheirOwnLists(t *testing.T) {
	pf := &Prefetched{}
	pf.side.podsDone, pf.side.claimsDone = make(chan struct{}), make(chan struct{})
	close(pf.side.podsDone)
	close(pf.side.claimsDone)
	pf.side.podsOK, pf.side.claimsOK = true, true
	pf.side.pods = map[string][]state.Pod{"graph/quickstart": {{Name: "quickstart-0", StatefulSet: "quickstart", Ready: true}}}
	pf.side.claims = map[string][]corev1.PersistentVolumeClaim{"graph/quickstart": {{}}}
	ctx := context.Background()

	own := InventoryRef{Namespace: "graph", Cluster: "quickstart"}
	if pods, ok := pf.Pods(ctx, own); !ok || len(pods) != 1 {
		t.Errorf("neo4jctl's layout: got %v %v, want its Pod from the fleet's list", pods, ok)
	}
	if claims, ok := pf.claims(ctx, own); !ok || len(claims) != 1 {
		t.Errorf("neo4jctl's layout: got %d claims %v, want its claim from the fleet's list", len(claims), ok)
	}
	adopted := InventoryRef{Namespace: "graph", Cluster: "prod",
		PodSelector:   "helm.neo4j.com/neo4j.name=prod,helm.neo4j.com/pod_category=neo4j-instance",
		ClaimSelector: "app=prod,helm.neo4j.com/instance in (server-1,server-2,server-3)", WorkloadSelector: "helm.neo4j.com/neo4j.name=prod"}
	if pods, ok := pf.Pods(ctx, adopted); ok {
		t.Errorf("adopted cluster: got %v from the fleet's list, want it left to its own selector", pods)
	}
	if claims, ok := pf.claims(ctx, adopted); ok {
		t.Errorf("adopted cluster: got %d claims from the fleet's list, want them left to its own selector", len(claims))
	}
}

// TestInventorySelectorsDefaultToTheClusterLabel: without selectors of its
// own an inventory finds everything by neo4jctl's cluster label.
func TestInventorySelectorsDefaultToTheClusterLabel(t *testing.T) {
	inv := InventoryRef{Namespace: "graph", Cluster: "quickstart"}
	want := ClusterLabel + "=quickstart"
	if inv.Custom() || inv.Pods() != want || inv.Claims() != want || inv.Workloads() != want {
		t.Errorf("got custom %v, %q, %q, %q; want %q for each", inv.Custom(), inv.Pods(), inv.Claims(), inv.Workloads(), want)
	}
	inv.ClaimSelector = "app=prod"
	if !inv.Custom() || inv.Claims() != "app=prod" || inv.Pods() != want {
		t.Errorf("with a claim selector: got custom %v, claims %q, pods %q", inv.Custom(), inv.Claims(), inv.Pods())
	}
}
