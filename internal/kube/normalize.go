package kube

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// lastAppliedAnnotation is written by client-side `kubectl apply`; it holds a
// copy of the object and would make every comparison noisy.
const lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// serverMetadata are the metadata fields the API server maintains; they
// differ between any two reads and say nothing about what neo4jctl renders.
var serverMetadata = []string{"managedFields", "resourceVersion", "generation", "uid", "creationTimestamp", "selfLink"}

// Normalize returns a deep copy of obj with server-maintained metadata,
// status, kubectl's last-applied annotation and neo4jctl's own applied-hash
// stamp (bookkeeping, not configuration) removed, so a live object and
// a dry-run prediction of it compare equal exactly when applying would change
// nothing. nil stays nil.
func Normalize(obj map[string]any) map[string]any {
	if obj == nil {
		return nil
	}
	// Copied field by field: what is dropped (managedFields above all, often
	// the largest part of a live object) is not copied first.
	out := make(map[string]any, len(obj))
	for k, v := range obj {
		if k != "status" && k != "metadata" {
			out[k] = runtime.DeepCopyJSONValue(v)
		}
	}
	if v, ok := obj["metadata"]; ok {
		src, isMap := v.(map[string]any)
		if !isMap {
			out["metadata"] = runtime.DeepCopyJSONValue(v)
			return out
		}
		md := make(map[string]any, len(src))
		for k, v := range src {
			if !slices.Contains(serverMetadata, k) {
				md[k] = runtime.DeepCopyJSONValue(v)
			}
		}
		out["metadata"] = md
		if ann, ok := md["annotations"].(map[string]any); ok {
			delete(ann, lastAppliedAnnotation)
			delete(ann, AppliedHashAnnotation)
			if len(ann) == 0 {
				delete(md, "annotations")
			}
		}
	}
	return out
}

// Fingerprint is the hex sha256 of a normalised object's canonical JSON
// (encoding/json sorts map keys). It covers every field plan compares, and
// nothing that changes on its own (status, resourceVersion), so a saved plan
// can tell that an object moved since it was planned. "" for nil.
func Fingerprint(normalized map[string]any) string {
	if normalized == nil {
		return ""
	}
	b, err := json.Marshal(normalized)
	if err != nil {
		// Values come from JSON decoding; they always encode.
		panic(fmt.Sprintf("fingerprint: %v", err))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Address is the stable plan address of an object:
// k8s:<group>/<Kind>/<namespace>/<name>, the core group written "core";
// cluster-scoped objects omit the namespace segment.
func Address(gvk schema.GroupVersionKind, namespace, name string) string {
	g := gvk.Group
	if g == "" {
		g = "core"
	}
	if namespace == "" {
		return fmt.Sprintf("k8s:%s/%s/%s", g, gvk.Kind, name)
	}
	return fmt.Sprintf("k8s:%s/%s/%s/%s", g, gvk.Kind, namespace, name)
}

// Ref identifies one object to delete (or read). UID, when set, is a
// precondition: the delete only removes that very object, not a newer one
// created under the same name since the plan.
type Ref struct {
	Group, Version, Kind string
	Namespace, Name      string
	UID                  string
}

// GVK returns the Ref's group/version/kind.
func (r Ref) GVK() schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: r.Group, Version: r.Version, Kind: r.Kind}
}

// Address returns the Ref's plan address.
func (r Ref) Address() string { return Address(r.GVK(), r.Namespace, r.Name) }

// RefOf returns the Ref of an unstructured object.
func RefOf(u *unstructured.Unstructured) Ref {
	gvk := u.GroupVersionKind()
	return Ref{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind, Namespace: u.GetNamespace(), Name: u.GetName(), UID: string(u.GetUID())}
}
