package kube

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/neo4jctl/neo4jctl/internal/state"
)

// DestroyObservation is what `neo4jctl destroy` reads of one cluster: the
// inventory's members, split as apply's prune splits them, and the claims
// of the cluster's StatefulSets.
type DestroyObservation struct {
	// InventoryFound is false when the cluster has no inventory (never
	// applied, or an earlier destroy finished).
	InventoryFound bool
	// Members are the inventory's members neo4jctl may delete: labelled
	// part of the cluster's ApplySet, in its namespace, with a neo4jctl
	// entry in their managedFields, not owned by another object.
	Members []state.Object
	// Foreign are labelled into the set but not neo4jctl's (no neo4jctl
	// field manager, or another namespace): destroy reports and keeps them.
	Foreign []state.Object
	// Claims are the claims the desired StatefulSets' templates made
	// (<template>-<statefulset>-<ordinal>, labelled with the cluster).
	Claims []state.Claim
}

// ObserveDestroy reads what destroy needs: the inventory's members (no dry
// run: destroy writes nothing but deletes) and the claims of the
// StatefulSets in desired. Pods and claims are never members (the
// StatefulSet controller copies the labels onto them).
func (c *Client) ObserveDestroy(ctx context.Context, desired []*unstructured.Unstructured, inv InventoryRef) (DestroyObservation, error) {
	var out DestroyObservation
	kinds, found, err := c.readInventory(ctx, inv)
	if err != nil {
		return out, err
	}
	out.InventoryFound = found
	var all []state.Object
	for _, gk := range sortedKinds(kinds) {
		if neverPruned.Has(gk) {
			continue
		}
		got, err := c.unwantedMembers(ctx, inv, gk, nil)
		if err != nil {
			return out, err
		}
		all = append(all, got...)
	}
	out.Members, out.Foreign = splitForeign(all, inv)
	out.Claims, _, err = c.observeClaims(ctx, desired, inv, nil)
	if err != nil {
		return out, err
	}
	return out, nil
}

// DeleteInventory deletes the cluster's inventory ConfigMap, the last
// object destroy removes: until then a rerun finds the members an
// interrupted destroy left. Only neo4jctl's parent of that cluster is
// deleted (readInventory's checks), with its UID as a precondition; a
// parent already gone is not an error.
func (c *Client) DeleteInventory(ctx context.Context, inv InventoryRef) error {
	if _, found, err := c.readInventory(ctx, inv); err != nil || !found {
		return err
	}
	cms := c.core.ConfigMaps(inv.Namespace)
	var uid types.UID
	err := c.retry(ctx, "get inventory "+inv.ParentName(), func(ctx context.Context) error {
		cm, err := cms.Get(ctx, inv.ParentName(), metav1.GetOptions{})
		if err == nil {
			uid = cm.UID
		}
		return err
	})
	if IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete inventory ConfigMap %s/%s: %w", inv.Namespace, inv.ParentName(), err)
	}
	err = c.retry(ctx, "delete inventory "+inv.ParentName(), func(ctx context.Context) error {
		return cms.Delete(ctx, inv.ParentName(), metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
	})
	if err != nil && !IsNotFound(err) {
		return fmt.Errorf("delete inventory ConfigMap %s/%s: %w", inv.Namespace, inv.ParentName(), err)
	}
	return nil
}
