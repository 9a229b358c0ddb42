package state

// Claim is a PersistentVolumeClaim of a pool's volumeClaimTemplate
// (<template>-<statefulset>-<ordinal>): plan compares its size with the
// cluster file's, since a StatefulSet's volumeClaimTemplates never change
// the claims it already made. A claim outlives its Pod, and with it the
// server identity stored on the volume (plan's returning servers).
type Claim struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	UID       string `json:"uid,omitempty"`
	Phase     string `json:"phase,omitempty"`
	// Terminating is set once the claim is being deleted.
	Terminating bool   `json:"terminating,omitempty"`
	StatefulSet string `json:"statefulSet"`
	Template    string `json:"template"`
	Ordinal     int    `json:"ordinal"`
	// Request is spec.resources.requests.storage; Capacity is
	// status.capacity.storage (what the volume has, once resized).
	Request          string `json:"request,omitempty"`
	Capacity         string `json:"capacity,omitempty"`
	StorageClassName string `json:"storageClassName,omitempty"`
}

// StorageClass is what plan needs of a StorageClass.
type StorageClass struct {
	Name string `json:"name"`
	// Found is false when the StorageClass does not exist; Reason is set
	// when it could not be read.
	Found                bool   `json:"found"`
	AllowVolumeExpansion bool   `json:"allowVolumeExpansion"`
	Reason               string `json:"reason,omitempty"`
}
