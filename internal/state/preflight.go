package state

// Preflight is what the cluster lacks that the rendered objects need
// before any of them is written: a namespace, a Secret or one of its keys,
// a StorageClass, a custom resource kind. Checked by plan, so apply never
// writes nine objects and fails at the tenth.
type Preflight struct {
	// Missing are prerequisites found absent: each refuses the plan.
	Missing []Prerequisite `json:"missing,omitempty"`
	// Unchecked says which checks could not be made (the credentials may
	// not read the object) and why; they are warnings, not refusals.
	Unchecked []string `json:"unchecked,omitempty"`
}

// Prerequisite is one missing thing, with what to do about it.
type Prerequisite struct {
	// Address names what is missing, in the plan's address form
	// (k8s:core/Secret/<ns>/<name>).
	Address string `json:"address"`
	Problem string `json:"problem"`
	Fix     string `json:"fix"`
}
