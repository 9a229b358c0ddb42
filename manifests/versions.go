package manifests

import (
	"fmt"
	"strconv"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/neo4jctl/neo4jctl/internal/lazyre"
)

// VersionRequirement is a rendered field that needs at least a given
// Kubernetes version. An older API server drops an unknown field silently
// (or applies it half way), so the command compares these with the server
// version and says which field and why, instead of letting the object look
// applied.
type VersionRequirement struct {
	// Object is the object's address without the k8s: prefix,
	// <group>/<Kind>/<namespace>/<name>.
	Object string `json:"object"`
	// Field is the JSON path of the field in the object.
	Field string `json:"field"`
	// Major and Minor are the first Kubernetes version where the field
	// works as rendered (GA, or beta and on by default).
	Major int `json:"major"`
	Minor int `json:"minor"`
	// Reason says what goes wrong on an older server.
	Reason string `json:"reason"`
}

// MinVersion returns the requirement as "1.32".
func (r VersionRequirement) MinVersion() string {
	return fmt.Sprintf("%d.%d", r.Major, r.Minor)
}

// MetBy reports whether a server of the given version satisfies r.
func (r VersionRequirement) MetBy(major, minor int) bool {
	return major > r.Major || major == r.Major && minor >= r.Minor
}

type fieldRule struct {
	kind         string
	path         []string // a "[]" element walks every item of a list
	major, minor int
	reason       string
}

// fieldRules are the fields Render may emit that are newer than the
// oldest Kubernetes release anyone still runs. Keep it to fields Render
// actually sets.
var fieldRules = []fieldRule{
	{"StatefulSet", []string{"spec", "persistentVolumeClaimRetentionPolicy"}, 1, 32,
		"PVC retention policy (GA in 1.32, beta from 1.27): older servers keep or drop claims regardless of storage.retention"},
	{"StatefulSet", []string{"spec", "template", "spec", "topologySpreadConstraints", "[]", "minDomains"}, 1, 30,
		"topology spread minDomains (GA in 1.30): older servers may place every server in one zone"},
	{"CronJob", []string{"spec", "jobTemplate", "spec", "template", "spec", "initContainers", "[]", "restartPolicy"}, 1, 29,
		"native sidecar containers (on by default from 1.29, GA in 1.33): on older servers the backup lock holder blocks neo4j-admin until the Job's deadline"},
	{"PodDisruptionBudget", []string{"spec", "unhealthyPodEvictionPolicy"}, 1, 31,
		"unhealthyPodEvictionPolicy (GA in 1.31): older servers let one unready server block every node drain"},
}

// MinKubernetesVersions returns the version requirements of the rendered
// objects, in object order.
func MinKubernetesVersions(objs []*unstructured.Unstructured) []VersionRequirement {
	var out []VersionRequirement
	for _, o := range objs {
		for _, r := range fieldRules {
			if o.GetKind() != r.kind || !hasPath(o.Object, r.path) {
				continue
			}
			out = append(out, VersionRequirement{
				Object: Address(o),
				Field:  joinPath(r.path),
				Major:  r.major,
				Minor:  r.minor,
				Reason: r.reason,
			})
		}
	}
	return out
}

var serverVersion = lazyre.New(`^v?(\d+)\.(\d+)`)

// UnmetVersionRequirements returns the requirements a server of the given
// version (a GitVersion such as "v1.31.4" or "1.31") does not meet.
func UnmetVersionRequirements(reqs []VersionRequirement, gitVersion string) ([]VersionRequirement, error) {
	m := serverVersion.FindStringSubmatch(gitVersion)
	if m == nil {
		return nil, fmt.Errorf("cannot read Kubernetes version %q", gitVersion)
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	var out []VersionRequirement
	for _, r := range reqs {
		if !r.MetBy(major, minor) {
			out = append(out, r)
		}
	}
	return out, nil
}

// Address returns <group>/<Kind>/<namespace>/<name> of an object, the
// group written "core" for the core API group (ARCHITECTURE.md,
// addresses; the k8s: prefix is the caller's).
func Address(o *unstructured.Unstructured) string {
	g := o.GroupVersionKind().Group
	if g == "" {
		g = "core"
	}
	return fmt.Sprintf("%s/%s/%s/%s", g, o.GetKind(), o.GetNamespace(), o.GetName())
}

func hasPath(v any, path []string) bool {
	if len(path) == 0 {
		return v != nil
	}
	if path[0] == "[]" {
		list, _ := v.([]any)
		for _, e := range list {
			if hasPath(e, path[1:]) {
				return true
			}
		}
		return false
	}
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	return hasPath(m[path[0]], path[1:])
}

func joinPath(path []string) string {
	s := ""
	for _, p := range path {
		switch {
		case p == "[]":
			s += "[*]"
		case s == "":
			s = p
		default:
			s += "." + p
		}
	}
	return s
}
