package state

import "time"

// KubeHealth is what the health check reads of a cluster's Kubernetes
// objects: their status, which the plan's observation (Object) strips.
type KubeHealth struct {
	Pods         []PodHealth         `json:"pods"`
	Claims       []ClaimHealth       `json:"claims"`
	PDBs         []PDBHealth         `json:"pdbs"`
	StatefulSets []StatefulSetHealth `json:"statefulSets"`
	// Events are the Warning events whose object is one of the cluster's
	// (its StatefulSets, Pods, claims, PDB), newest first.
	Events []EventHealth `json:"events"`
}

// PodHealth is one server Pod's status.
type PodHealth struct {
	Name        string    `json:"name"`
	StatefulSet string    `json:"statefulSet"`
	Ordinal     int       `json:"ordinal"`
	Node        string    `json:"node,omitempty"`
	Phase       string    `json:"phase"`
	Ready       bool      `json:"ready"`
	Deleting    bool      `json:"deleting,omitempty"`
	Created     time.Time `json:"created"`
	// Claims are the PersistentVolumeClaims the Pod mounts.
	Claims     []string          `json:"claims,omitempty"`
	Containers []ContainerHealth `json:"containers"`
}

// ContainerHealth is one container's status. Kubernetes keeps only the
// restart count and the last termination, not a history of restarts.
type ContainerHealth struct {
	Name         string `json:"name"`
	Ready        bool   `json:"ready"`
	RestartCount int32  `json:"restartCount"`
	// Waiting is the reason the container is waiting (CrashLoopBackOff,
	// ImagePullBackOff, …), empty when it runs.
	Waiting        string `json:"waiting,omitempty"`
	WaitingMessage string `json:"waitingMessage,omitempty"`
	// LastTermination is the reason of the previous termination (OOMKilled,
	// Error, …) and LastExitCode its exit code; LastFinished when it ended.
	LastTermination string    `json:"lastTermination,omitempty"`
	LastExitCode    int32     `json:"lastExitCode,omitempty"`
	LastFinished    time.Time `json:"lastFinished,omitempty"`
}

// ClaimHealth is one PersistentVolumeClaim of the cluster's Pods.
type ClaimHealth struct {
	Name         string `json:"name"`
	Phase        string `json:"phase"` // Pending, Bound, Lost
	StorageClass string `json:"storageClass,omitempty"`
	// Capacity is status.capacity.storage ("" until Bound).
	Capacity string `json:"capacity,omitempty"`
}

// PDBHealth is a PodDisruptionBudget's status.
type PDBHealth struct {
	Name               string `json:"name"`
	DisruptionsAllowed int32  `json:"disruptionsAllowed"`
	CurrentHealthy     int32  `json:"currentHealthy"`
	DesiredHealthy     int32  `json:"desiredHealthy"`
	ExpectedPods       int32  `json:"expectedPods"`
	// Stale is true while the disruption controller has not yet processed
	// the PDB's current generation: its figures are then not to be trusted.
	Stale bool `json:"stale,omitempty"`
}

// StatefulSetHealth is a StatefulSet's rollout status.
type StatefulSetHealth struct {
	Name            string `json:"name"`
	Replicas        int32  `json:"replicas"`
	ReadyReplicas   int32  `json:"readyReplicas"`
	UpdatedReplicas int32  `json:"updatedReplicas"`
	CurrentRevision string `json:"currentRevision"`
	UpdateRevision  string `json:"updateRevision"`
	// Stale is true while the controller has not yet seen the latest spec.
	Stale bool `json:"stale,omitempty"`
}

// EventHealth is one Kubernetes event about an object of the cluster.
type EventHealth struct {
	Type    string    `json:"type"`
	Object  string    `json:"object"` // Kind/name
	Reason  string    `json:"reason"`
	Message string    `json:"message"`
	Count   int32     `json:"count"`
	Last    time.Time `json:"last"`
}

// VolumeUsage is one claim's filesystem usage as the kubelet reports it
// (Summary API, GET /api/v1/nodes/<node>/proxy/stats/summary).
type VolumeUsage struct {
	Claim         string `json:"claim"`
	Pod           string `json:"pod"`
	UsedBytes     int64  `json:"usedBytes"`
	CapacityBytes int64  `json:"capacityBytes"`
}
