package state

// Object is one Kubernetes object neo4jctl renders, as observed. Desired,
// Live and Predicted are plain JSON-shaped maps (what json.Unmarshal gives),
// normalised by internal/kube before plan sees them: managedFields,
// resourceVersion, generation, uid, creationTimestamp and status removed.
type Object struct {
	// Address is k8s:<group>/<Kind>/<namespace>/<name>, core group "core".
	Address   string `json:"address"`
	Group     string `json:"group"`
	Version   string `json:"version"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`

	// Desired is the rendered object as neo4jctl applies it: namespace
	// filled in and, for objects labelled neo4jctl.io/cluster, the inventory
	// label applyset.kubernetes.io/part-of added.
	Desired map[string]any `json:"desired,omitempty"`
	// Live is the object in the API server; nil when it does not exist.
	Live map[string]any `json:"live,omitempty"`
	// Predicted is what the object would be after a forced server-side apply
	// of Desired (dryRun=All); nil when the dry run failed.
	Predicted map[string]any `json:"predicted,omitempty"`

	UID        string `json:"uid,omitempty"`
	Generation int64  `json:"generation,omitempty"`
	// Fingerprint is a hash of the normalised fields neo4jctl compares, used
	// by saved plans to detect that the object moved since planning.
	Fingerprint string `json:"fingerprint,omitempty"`

	// Managers lists who last set fields of the live object (from
	// managedFields), so a change can be attributed ("changed by kubectl-edit").
	Managers []FieldManager `json:"managers,omitempty"`
	// Conflicts are fields neo4jctl renders that another Apply-operation
	// manager owns; applying needs --force-conflicts.
	Conflicts []Conflict `json:"conflicts,omitempty"`
	// DryRunError is set when the API server refused the dry run (for
	// example an immutable field changed); Immutable marks that case.
	DryRunError string `json:"dryRunError,omitempty"`
	Immutable   bool   `json:"immutable,omitempty"`
}

// FieldManager is one managedFields entry, its fields as dotted paths
// (e.g. "spec.replicas", "spec.template.spec.containers[name=neo4j].image").
type FieldManager struct {
	Manager   string   `json:"manager"`
	Operation string   `json:"operation"` // Apply or Update
	Fields    []string `json:"fields,omitempty"`
}

// Conflict is a field neo4jctl renders that another Apply manager owns.
type Conflict struct {
	Field   string `json:"field"`
	Manager string `json:"manager"`
}

// Pod is the part of a Pod the Neo4j plane cares about.
type Pod struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	// StatefulSet and Ordinal locate the Pod in its pool.
	StatefulSet string `json:"statefulSet"`
	Ordinal     int    `json:"ordinal"`
	Ready       bool   `json:"ready"`
	Phase       string `json:"phase"`
}

// Kube is everything observed of the Kubernetes plane for one cluster.
type Kube struct {
	// Reachable is false when the API server could not be observed.
	Reachable     bool   `json:"reachable"`
	Reason        string `json:"reason,omitempty"`
	ServerVersion string `json:"serverVersion,omitempty"`
	// Mode is "dry-run" (forced server-side apply) or "structural" (read-only
	// credentials: live compared with desired over the managed fields).
	Mode string `json:"mode,omitempty"`
	// ModeReason says why Mode is "structural" when it was not asked for
	// (the credentials may not dry-run).
	ModeReason string   `json:"modeReason,omitempty"`
	Objects    []Object `json:"objects"`
	// Orphans are objects listed in neo4jctl's inventory (ApplySet) that the
	// cluster file no longer renders: candidates for deletion.
	Orphans []Object `json:"orphans,omitempty"`
	// Foreign are objects labelled as members of the inventory that
	// neo4jctl never wrote (no neo4jctl entry in their managedFields) or
	// that lie outside the cluster's namespace: someone else put them in
	// the set. They are reported, never deleted.
	Foreign []Object `json:"foreign,omitempty"`
	Pods    []Pod    `json:"pods,omitempty"`
	// Claims are the pools' PersistentVolumeClaims and StorageClasses the
	// StorageClasses they use, by name (claims.go). ClaimsObserved is set
	// by Observe, which fails when the claims cannot be listed; a state
	// made without it says nothing of the claims, which is not the same
	// as there being none.
	Claims         []Claim                 `json:"claims,omitempty"`
	StorageClasses map[string]StorageClass `json:"storageClasses,omitempty"`
	ClaimsObserved bool                    `json:"claimsObserved,omitempty"`
}
