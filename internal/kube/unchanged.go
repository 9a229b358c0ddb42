package kube

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

// AppliedHashAnnotation holds, on every object neo4jctl applies as a member
// of a cluster's inventory, the sha256 of exactly the configuration that
// apply sent (appliedHash). It lets a later process prove an object
// unchanged without a dry run (provablyUnchanged). It is bookkeeping, like
// kubectl's last-applied annotation: Normalize drops it, so plans, drift
// and fingerprints never show it.
const AppliedHashAnnotation = "neo4jctl.io/applied-hash"

// appliedHash is the hex sha256 of the configuration obj applies: the
// object as sent, without the stamp itself and without metadata.namespace
// (part of the object's address, not of its configuration; render prints
// some objects without it, apply always sends it). encoding/json sorts map
// keys, and a whole number encodes the same as int64 or float64, so equal
// configurations hash equal whoever built them.
func appliedHash(obj map[string]any) string {
	b, err := json.Marshal(unstamped(obj, true))
	if err != nil {
		// Rendered objects are JSON values; they always encode.
		panic(fmt.Sprintf("applied hash: %v", err))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// unstamped returns obj without AppliedHashAnnotation (and, with
// dropNamespace, without metadata.namespace), copying only the maps on the
// way to them; obj is not modified. An annotations map left empty is
// dropped, so an object with no other annotation hashes the same with or
// without an empty map.
func unstamped(obj map[string]any, dropNamespace bool) map[string]any {
	md, ok := obj["metadata"].(map[string]any)
	if !ok {
		return obj
	}
	ann, _ := md["annotations"].(map[string]any)
	_, stamped := ann[AppliedHashAnnotation]
	_, hasNS := md["namespace"]
	if !stamped && !(dropNamespace && hasNS) {
		return obj
	}
	out := make(map[string]any, len(obj))
	for k, v := range obj {
		out[k] = v
	}
	m := make(map[string]any, len(md))
	for k, v := range md {
		m[k] = v
	}
	if dropNamespace {
		delete(m, "namespace")
	}
	if stamped {
		a := make(map[string]any, len(ann))
		for k, v := range ann {
			if k != AppliedHashAnnotation {
				a[k] = v
			}
		}
		if len(a) == 0 {
			delete(m, "annotations")
		} else {
			m["annotations"] = a
		}
	}
	out["metadata"] = m
	return out
}

// stamp sets AppliedHashAnnotation on o to the hash of o's configuration,
// in place; a stamp already there is replaced (the configuration may have
// changed since: a scale step's replicas). Secrets are never stamped (and
// so always dry-run): a hash of known text around a secret value would let
// anyone who sees the annotation test guesses of that value offline.
func stamp(o *unstructured.Unstructured) {
	if o.GetKind() == "Secret" && o.GroupVersionKind().Group == "" {
		if ann := o.GetAnnotations(); ann != nil {
			if _, ok := ann[AppliedHashAnnotation]; ok {
				delete(ann, AppliedHashAnnotation)
				o.SetAnnotations(ann)
			}
		}
		return
	}
	h := appliedHash(o.Object)
	ann := o.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	ann[AppliedHashAnnotation] = h
	o.SetAnnotations(ann)
}

// stampOf returns the stamp o carries ("" for none).
func stampOf(o *unstructured.Unstructured) string {
	md, _ := o.Object["metadata"].(map[string]any)
	ann, _ := md["annotations"].(map[string]any)
	s, _ := ann[AppliedHashAnnotation].(string)
	return s
}

// provablyUnchanged reports whether a forced server-side apply of sent (a
// prepared, stamped object) to live would change nothing, so that live can
// stand in for the dry run's answer. It must never answer true in doubt;
// every condition below is one the object has to meet:
//
//  1. The configuration is the one neo4jctl applied last: live carries the
//     stamp sent carries. A field neo4jctl stopped rendering, or any other
//     change to the cluster file's rendering, changes the hash.
//  2. Nobody else wrote it since: its managedFields hold one entry of
//     neo4jctl's own server-side apply, and every other entry (a
//     controller's status write) owns nothing outside status. Any other
//     manager — kubectl edit/patch/label/scale, Helm, an autoscaler, a
//     controller writing annotations, neo4jctl itself through an Update
//     (a mutating webhook's change during its apply) — is doubt.
//  3. Nothing the configuration sets is missing or different in live. A
//     field removed by another manager's Update leaves no trace in
//     managedFields (the server drops it from every manager's set, and the
//     remover owns nothing), so 2 alone cannot see it.
//  4. It is the same object in the same shape: same apiVersion, not being
//     deleted.
//  5. Its kind is built into the API server (builtInGroup). A custom
//     resource's answer depends on its CRD, which another tool upgrades on
//     its own schedule (cert-manager, the Prometheus operator): defaults
//     a new schema adds show on a read as in a dry run, but fields it
//     drops are pruned only on a write, and reading the CRD to compare
//     needs rights a namespaced or read-only role does not have. A
//     cluster renders one or two custom resources; they are always
//     dry-run.
//
// Given 1-4, the apply would set every field it sets to the value it
// already has and remove nothing (neo4jctl owns exactly the fields of the
// configuration it last applied, which is this one); no other manager owns
// a field it could conflict on or take back. Fields the API server
// defaulted are in live and owned by nobody, as they would be in the dry
// run's answer.
//
// What this cannot know is whether the server would now treat the same
// configuration differently: a mutating webhook or admission policy
// installed since. The object is then not written either (nothing changes),
// and it is dry-run again as soon as its configuration changes; every object
// apply writes is dry-run first.
func provablyUnchanged(sent, live *unstructured.Unstructured) bool {
	h := stampOf(sent)
	if h == "" || stampOf(live) != h {
		return false
	}
	if live.GetDeletionTimestamp() != nil || live.GetUID() == "" || live.GetAPIVersion() != sent.GetAPIVersion() {
		return false
	}
	if !builtInGroup(sent.GroupVersionKind().Group) {
		return false
	}
	if !onlyOursOutsideStatus(managedFieldsOf(live.Object)) {
		return false
	}
	for k, v := range sent.Object {
		if k == "status" {
			continue // never applied through the main resource
		}
		if !holds(live.Object[k], v, live.Object, k) {
			return false
		}
	}
	return true
}

// builtInGroup reports whether group is served by the API server itself,
// never by a CustomResourceDefinition: the core group, a group without a
// dot (a CRD's group must contain one: apps, policy, batch, autoscaling),
// or one of the built-in *.k8s.io groups neo4jctl renders. Other *.k8s.io
// groups can be CRDs (gateway.networking.k8s.io, snapshot.storage.k8s.io).
func builtInGroup(group string) bool {
	switch group {
	case "networking.k8s.io", "rbac.authorization.k8s.io", "coordination.k8s.io", "discovery.k8s.io", "storage.k8s.io":
		return true
	}
	return !strings.Contains(group, ".")
}

// onlyOursOutsideStatus reports whether entries are neo4jctl's server-side
// apply (exactly one entry) plus entries that own status fields only.
func onlyOursOutsideStatus(entries []managedEntry) bool {
	ours := 0
	for _, e := range entries {
		if !e.ok {
			return false
		}
		if e.manager == FieldManager && e.operation == string(metav1.ManagedFieldsOperationApply) && e.subresource == "" {
			ours++
			continue
		}
		if !statusOnly(e.fields) {
			return false
		}
	}
	return ours == 1
}

// statusOnly reports whether every field of s is status or under it.
func statusOnly(s *fieldpath.Set) bool {
	only := true
	s.Iterate(func(p fieldpath.Path) {
		if len(p) == 0 || p[0].FieldName == nil || *p[0].FieldName != "status" {
			only = false
		}
	})
	return only
}

// holds reports whether the live value has everything want (a value of the
// sent configuration) sets: every key of a map (recursively), a list of the
// same length whose items hold the wanted items in order, an equal scalar.
// A null or empty map or list wanted holds where live has nothing (the
// server drops them). parent and key locate live for that check.
func holds(live, want any, parent map[string]any, key string) bool {
	switch w := want.(type) {
	case nil:
		_, present := parent[key]
		return !present || live == nil
	case map[string]any:
		l, ok := live.(map[string]any)
		if !ok {
			_, present := parent[key]
			return len(w) == 0 && (!present || live == nil)
		}
		for k, v := range w {
			if k == "creationTimestamp" && v == nil {
				// Typed objects converted to maps carry it as null; the
				// server sets it, and an apply never changes it.
				continue
			}
			if !holds(l[k], v, l, k) {
				return false
			}
		}
		return true
	case []any:
		l, ok := live.([]any)
		if !ok {
			_, present := parent[key]
			return len(w) == 0 && (!present || live == nil)
		}
		if len(l) != len(w) {
			return false
		}
		for i := range w {
			if !holdsItem(l[i], w[i]) {
				return false
			}
		}
		return true
	}
	return scalarEqual(live, want)
}

// holdsItem is holds for a list item (no parent map to look a key up in).
func holdsItem(live, want any) bool {
	wrap := map[string]any{"": live}
	return holds(live, want, wrap, "")
}

// scalarEqual compares JSON scalars, numbers by value (int64 from the
// decoder, float64 or another integer type from rendering).
func scalarEqual(a, b any) bool {
	if ia, ok := a.(int64); ok {
		if ib, ok := b.(int64); ok {
			return ia == ib // exactly, beyond float64's 53 bits
		}
	}
	if fa, ok := number(a); ok {
		fb, ok := number(b)
		return ok && fa == fb
	}
	switch av := a.(type) {
	case string:
		bv, ok := b.(string)
		return ok && av == bv
	case bool:
		bv, ok := b.(bool)
		return ok && av == bv
	}
	return false
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int64:
		return float64(n), true
	case int:
		return float64(n), true
	case int32:
		return float64(n), true
	case float64:
		return n, !math.IsNaN(n)
	case float32:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}
