package kube

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/neo4jctl/neo4jctl/internal/state"
)

var storageClassGVR = schema.GroupVersionResource{Group: "storage.k8s.io", Version: "v1", Resource: "storageclasses"}

// observeClaims lists the claims the desired StatefulSets' volumeClaimTemplates
// made (<template>-<statefulset>-<ordinal>) and reads the StorageClasses they
// use: a StatefulSet never resizes the claims it already made, so plan
// compares their sizes with the cluster file's itself, and a claim kept
// after a scale in brings a dropped server's identity back with its Pod.
// Credentials that may not list claims fail the observation (Forbidden),
// as for any other kind plan reads: a plan that silently skipped the
// claims would say "No changes" over claims smaller than the cluster file
// asks, or miss a claim that brings a dropped server back. Claims being
// deleted are left out. A StorageClass
// that cannot be read carries its Reason, and plan refuses a resize it
// cannot check.
func (c *Client) observeClaims(ctx context.Context, desired []*unstructured.Unstructured, inv InventoryRef, pf *Prefetched) (claims []state.Claim, classes map[string]state.StorageClass, err error) {
	type tmpl struct{ sts, name, size string }
	var tmpls []tmpl
	for _, u := range desired {
		if u.GetKind() != "StatefulSet" {
			continue
		}
		vcts, _, _ := unstructured.NestedSlice(u.Object, "spec", "volumeClaimTemplates")
		for _, v := range vcts {
			m, _ := v.(map[string]any)
			name, _, _ := unstructured.NestedString(m, "metadata", "name")
			size, _, _ := unstructured.NestedString(m, "spec", "resources", "requests", "storage")
			if name != "" {
				tmpls = append(tmpls, tmpl{u.GetName(), name, size})
			}
		}
	}
	if len(tmpls) == 0 {
		return nil, nil, nil
	}
	// The claims carry their StatefulSet's selector labels (the
	// StatefulSet controller copies spec.selector.matchLabels onto each
	// claim it makes): neo4jctl's cluster label, or the chart's labels for
	// an adopted cluster (inv.Claims). A fleet's plan reads neo4jctl's
	// from one list.
	ns := inv.Namespace
	items, ok := pf.claims(ctx, inv)
	if !ok {
		var list *corev1.PersistentVolumeClaimList
		err = c.retry(ctx, "list PersistentVolumeClaims in "+ns, func(ctx context.Context) error {
			var err error
			list, err = c.core.PersistentVolumeClaims(ns).List(ctx, metav1.ListOptions{LabelSelector: inv.Claims()})
			return err
		})
		if err != nil {
			return nil, nil, fmt.Errorf("list PersistentVolumeClaims in %s: %w", ns, err)
		}
		items = list.Items
	}
	classes = map[string]state.StorageClass{}
	for _, pvc := range items {
		if pvc.DeletionTimestamp != nil {
			continue
		}
		for _, t := range tmpls {
			prefix := t.name + "-" + t.sts + "-"
			ord, err := strconv.Atoi(strings.TrimPrefix(pvc.Name, prefix))
			if !strings.HasPrefix(pvc.Name, prefix) || err != nil || ord < 0 {
				continue
			}
			cl := state.Claim{Name: pvc.Name, Namespace: pvc.Namespace, UID: string(pvc.UID),
				StatefulSet: t.sts, Template: t.name, Ordinal: ord}
			if q, ok := pvc.Spec.Resources.Requests[corev1.ResourceStorage]; ok {
				cl.Request = q.String()
			}
			if q, ok := pvc.Status.Capacity[corev1.ResourceStorage]; ok {
				cl.Capacity = q.String()
			}
			if pvc.Spec.StorageClassName != nil {
				cl.StorageClassName = *pvc.Spec.StorageClassName
				// The StorageClass is read only for a claim that must
				// grow: a converged cluster costs no GET per class.
				if mustGrow(t.size, pvc) {
					classes[cl.StorageClassName] = state.StorageClass{}
				}
			}
			claims = append(claims, cl)
		}
	}
	sort.Slice(claims, func(i, j int) bool { return claims[i].Name < claims[j].Name })
	for name := range classes {
		sc := state.StorageClass{Name: name}
		var u *unstructured.Unstructured
		err := c.retry(ctx, "get StorageClass "+name, func(ctx context.Context) error {
			var err error
			u, err = c.dyn.Resource(storageClassGVR).Get(ctx, name, metav1.GetOptions{})
			return err
		})
		switch {
		case IsNotFound(err):
		case err != nil:
			sc.Reason = "cannot read the StorageClass: " + err.Error()
		default:
			sc.Found = true
			sc.AllowVolumeExpansion, _, _ = unstructured.NestedBool(u.Object, "allowVolumeExpansion")
		}
		classes[name] = sc
	}
	if len(classes) == 0 {
		classes = nil
	}
	return claims, classes, nil
}

// mustGrow reports whether the claim is smaller than size (its request or
// its capacity).
func mustGrow(size string, pvc corev1.PersistentVolumeClaim) bool {
	want, err := resource.ParseQuantity(size)
	if err != nil {
		return false
	}
	req := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
	capacity, ok := pvc.Status.Capacity[corev1.ResourceStorage]
	return want.Cmp(req) > 0 || (ok && want.Cmp(capacity) > 0)
}

// ResizeClaim raises the claim's spec.resources.requests.storage to size
// (a merge patch; neo4jctl does not own claims, the StatefulSet controller
// made them) with the observed UID as a precondition-like check: a claim
// replaced since it was observed is not touched.
func (c *Client) ResizeClaim(ctx context.Context, ns, name, uid, size string) error {
	q, err := resource.ParseQuantity(size)
	if err != nil {
		return fmt.Errorf("resize claim %s: size %q: %w", name, size, err)
	}
	patch := fmt.Sprintf(`{"metadata":{"uid":%q},"spec":{"resources":{"requests":{"storage":%q}}}}`, uid, q.String())
	if uid == "" {
		patch = fmt.Sprintf(`{"spec":{"resources":{"requests":{"storage":%q}}}}`, q.String())
	}
	return c.retry(ctx, "resize claim "+ns+"/"+name, func(ctx context.Context) error {
		_, err := c.core.PersistentVolumeClaims(ns).Patch(ctx, name, types.MergePatchType, []byte(patch), metav1.PatchOptions{FieldManager: FieldManager})
		return err
	})
}

// WaitClaimCapacity waits until the claim's status.capacity.storage is at
// least size: the volume was expanded (by the CSI resizer and, for a
// filesystem, the kubelet). onProgress gets the capacity and the claim's
// resize status as they change.
func (c *Client) WaitClaimCapacity(ctx context.Context, ns, name, size string, onProgress func(status string)) error {
	want, err := resource.ParseQuantity(size)
	if err != nil {
		return fmt.Errorf("claim %s: size %q: %w", name, size, err)
	}
	last := ""
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		var pvc *corev1.PersistentVolumeClaim
		err := c.retry(ctx, "get claim "+ns+"/"+name, func(ctx context.Context) error {
			var err error
			pvc, err = c.core.PersistentVolumeClaims(ns).Get(ctx, name, metav1.GetOptions{})
			return err
		})
		if err != nil {
			return fmt.Errorf("claim %s: %w", name, err)
		}
		got, ok := pvc.Status.Capacity[corev1.ResourceStorage]
		if ok && got.Cmp(want) >= 0 {
			return nil
		}
		status := "capacity " + got.String()
		for _, cond := range pvc.Status.Conditions {
			if cond.Status == corev1.ConditionTrue {
				status += ", " + string(cond.Type)
			}
		}
		if status != last && onProgress != nil {
			onProgress(status)
			last = status
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("claim %s not resized to %s (%s): %w", name, size, status, ctx.Err())
		case <-tick.C:
		}
	}
}
