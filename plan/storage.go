package plan

import (
	"fmt"
	"sort"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/neo4jctl/neo4jctl/internal/state"
)

// What a StatefulSet replace does to Pods and claims, stated in the plan.
// apply deletes the old StatefulSet with orphan propagation and creates the
// new one, which adopts the running Pods (apply/storage.go); claims are
// never deleted by a replace: orphan propagation also orphans any claim a
// persistentVolumeClaimRetentionPolicy of whenDeleted: Delete made the
// StatefulSet own.

// stsReplaceEffect is appended to the reason of a StatefulSet replace.
const stsReplaceEffect = "; the old StatefulSet is deleted with orphan propagation, so its Pods keep running " +
	"and its PersistentVolumeClaims are kept whatever the retention policy; the new StatefulSet adopts the running Pods " +
	"(no Pod restarts unless the Pod template changed too, which rolls them one at a time in the rolling-update step)"

// stsReplaceFix is the fix of a refused StatefulSet replace.
const stsReplaceFix = "pass --allow-replace to delete the StatefulSet with orphan propagation and recreate it " +
	"(the Pods keep running and are adopted; PVCs are kept)"

// KindResizeClaim raises a PersistentVolumeClaim's storage request to
// Resize.Size and waits until the volume has that capacity
// (status.capacity): a StatefulSet's volumeClaimTemplates only shape the
// claims it has yet to make, so growing storage means resizing every
// existing claim, then replacing the StatefulSet (orphan propagation) so
// that new claims get the new size.
const KindResizeClaim Kind = "resize-claim"

// ClaimResize is the parameter of a resize-claim step.
type ClaimResize struct {
	Namespace string `json:"namespace"`
	Claim     string `json:"claim"`
	// UID is the observed claim's: apply resizes no claim replaced since.
	UID  string `json:"uid,omitempty"`
	Pod  string `json:"pod"`
	From string `json:"from"`
	Size string `json:"size"`
}

// growClaims plans the resize of the claims of the pool's Pods (ordinals
// below pods) whose size is below the cluster file's, one claim at a time,
// highest ordinal first as a rolling update goes, each waited for before
// the next; they come before the StatefulSet's own change in the pool's
// chain. A smaller size is refused: Kubernetes never shrinks a claim. A
// StorageClass that does not allow expansion is refused with the fix.
func (b *builder) growClaims(c *chain, pl Pool, o *state.Object, pods int) {
	if o == nil || o.Live == nil {
		return
	}
	want := templateSizes(o.Desired)
	if len(want) == 0 {
		return
	}
	if !b.k.ClaimsObserved {
		b.warn("The PersistentVolumeClaims of %s were not observed: their sizes were not compared with the cluster file.", pl.StatefulSet)
		return
	}
	var claims []state.Claim
	for _, cl := range b.k.Claims {
		if cl.StatefulSet == pl.StatefulSet && want[cl.Template] != "" {
			claims = append(claims, cl)
		}
	}
	sort.Slice(claims, func(i, j int) bool {
		if claims[i].Ordinal != claims[j].Ordinal {
			return claims[i].Ordinal > claims[j].Ordinal
		}
		return claims[i].Template < claims[j].Template
	})
	for _, cl := range claims {
		size := want[cl.Template]
		wq, err := resource.ParseQuantity(size)
		if err != nil {
			continue // validate refuses such a size; nothing to compare
		}
		addr := "k8s:core/PersistentVolumeClaim/" + b.d.Namespace + "/" + cl.Name
		req, rerr := resource.ParseQuantity(cl.Request)
		capacity, cerr := resource.ParseQuantity(cl.Capacity)
		if rerr == nil && wq.Cmp(req) < 0 {
			b.refuse(addr, fmt.Sprintf("claim %s requests %s and the cluster file asks %s: a PersistentVolumeClaim can only grow, Kubernetes refuses a smaller request", cl.Name, cl.Request, size),
				fmt.Sprintf("keep %s.size at %s or more; moving to smaller volumes means new claims and a restore from backup", templateField(cl.Template), cl.Request))
			continue
		}
		if rerr == nil && wq.Cmp(req) == 0 && (cerr != nil || capacity.Cmp(wq) >= 0) {
			continue // the size asked for, and the volume has it (or reports none)
		}
		if cl.Ordinal >= pods {
			b.warn("claim %s (%s) belongs to no running Pod and is not resized to %s: delete it or resize it before scaling out onto it.", cl.Name, cl.Request, size)
			continue
		}
		sc, known := b.k.StorageClasses[cl.StorageClassName]
		switch {
		case !known || sc.Reason != "":
			b.refuse(addr, fmt.Sprintf("claim %s must grow to %s but StorageClass %q could not be read (%s)", cl.Name, size, cl.StorageClassName, orUnknown(sc.Reason)),
				"let the credentials read storageclasses.storage.k8s.io and plan again")
			continue
		case !sc.Found:
			b.refuse(addr, fmt.Sprintf("claim %s must grow to %s but its StorageClass %q does not exist", cl.Name, size, cl.StorageClassName),
				"recreate the StorageClass with allowVolumeExpansion: true, or keep the size")
			continue
		case !sc.AllowVolumeExpansion:
			b.refuse(addr, fmt.Sprintf("claim %s must grow %s → %s but StorageClass %q does not allow volume expansion", cl.Name, cl.Request, size, cl.StorageClassName),
				fmt.Sprintf("if its provisioner can expand volumes, set allowVolumeExpansion: true on StorageClass %s (kubectl patch storageclass %s -p '{\"allowVolumeExpansion\":true}') and plan again; otherwise keep %s.size at %s", cl.StorageClassName, cl.StorageClassName, templateField(cl.Template), cl.Request))
			continue
		}
		pod := podName(pl.StatefulSet, cl.Ordinal)
		c.add(Step{Address: addr, Action: ActionUpdate, Kind: KindResizeClaim,
			Object: &ObjectRef{Group: "", Version: "v1", Kind: "PersistentVolumeClaim", Namespace: b.d.Namespace, Name: cl.Name},
			Reason: fmt.Sprintf("grow the %s volume of Pod %s %s → %s (StorageClass %s allows expansion), then wait until the volume reports %s; the Pod keeps running",
				cl.Template, pod, orUnknown(cl.Request), size, cl.StorageClassName, size),
			Before: cl.Request, After: size,
			Resize: &ClaimResize{Namespace: b.d.Namespace, Claim: cl.Name, UID: cl.UID, Pod: pod, From: cl.Request, Size: size}})
	}
}

// templateSizes maps the volumeClaimTemplates of a rendered StatefulSet to
// their storage requests.
func templateSizes(sts map[string]any) map[string]string {
	out := map[string]string{}
	spec, _ := sts["spec"].(map[string]any)
	vcts, _ := spec["volumeClaimTemplates"].([]any)
	for _, v := range vcts {
		m, _ := v.(map[string]any)
		md, _ := m["metadata"].(map[string]any)
		name, _ := md["name"].(string)
		ts, _ := m["spec"].(map[string]any)
		rs, _ := ts["resources"].(map[string]any)
		rq, _ := rs["requests"].(map[string]any)
		if size, ok := rq["storage"].(string); ok && name != "" {
			out[name] = size
		}
	}
	return out
}

// templateField names the cluster-file field of a claim template.
func templateField(tmpl string) string {
	return "spec.storage." + tmpl
}
