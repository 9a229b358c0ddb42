package plan

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
