package plan

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/internal/state"
)

// HelmManager is the field manager Helm writes objects under.
const HelmManager = "helm"

// TakeOverReason is the reason of a step that changes no value of an
// object the Helm chart rendered but makes neo4jctl its manager: the
// first apply after import applies it server-side, forced, so the fields
// Helm set become neo4jctl's.
const TakeOverReason = "takes over fields from helm (server-side apply, forced); no value changes"

// refuseImported refuses a cluster file that an older `neo4jctl import`
// wrote from Helm releases without spec.layout: helm: neo4jctl would
// render its own StatefulSet beside the chart's, so apply would start new,
// empty servers next to the running ones instead of managing them. With
// layout: helm the chart's objects are adopted in place (docs/import.md).
// The refusal makes apply stop before any write, and plan still shows
// everything else.
func (b *builder) refuseImported() {
	if b.d.Cluster == nil || b.d.Cluster.IsHelmLayout() {
		return
	}
	releases, ok := b.d.Cluster.Metadata.Annotations[clusterfile.AnnotationImportedFromHelm]
	if !ok {
		return
	}
	b.refuse("cluster",
		fmt.Sprintf("this file was imported from Helm release(s) %s without layout: helm, so applying it would start new, empty servers beside the chart's", releases),
		"import the releases again with this neo4jctl (it writes layout: helm, which adopts the chart's objects in place); to create a new cluster from this file elsewhere, remove the annotation "+clusterfile.AnnotationImportedFromHelm)
}

// helmLayout reports whether the chart's objects are adopted in place.
func (b *builder) helmLayout() bool { return b.d.Cluster.IsHelmLayout() }

// refuseHelmReplace refuses, whatever --allow-replace says, an immutable
// change to an object of an adopted Helm release: recreating one of the
// chart's StatefulSets (or its claims) is what layout: helm exists to
// avoid. It reports whether it refused.
func (b *builder) refuseHelmReplace(o state.Object) bool {
	if !b.helmLayout() {
		return false
	}
	reason := "an immutable field changed on an object adopted from the Helm chart"
	if o.DryRunError != "" {
		reason += ": " + o.DryRunError
	}
	b.refuse(o.Address, reason+"; under layout: helm neo4jctl never recreates the chart's StatefulSets or touches their claims",
		"undo the change (the selector, serviceName and claim templates stay the chart's); moving to neo4jctl's own layout needs the volumes rebound (docs/import.md)")
	return true
}

// takeOver returns the step that makes neo4jctl the manager of an object
// whose values already match the cluster file but which Helm wrote and
// neo4jctl never applied (the first apply after import); nil otherwise.
func (b *builder) takeOver(o state.Object, dr *draft) *draft {
	if !b.helmLayout() || o.Live == nil {
		return nil
	}
	helm := false
	for _, m := range o.Managers {
		switch m.Manager {
		case "neo4jctl":
			return nil
		case HelmManager:
			helm = true
		}
	}
	if !helm {
		return nil
	}
	after := o.Predicted
	if after == nil {
		after = o.Desired
	}
	dr.Action, dr.Kind = ActionUpdate, KindApply
	dr.Reason = TakeOverReason
	dr.Before, dr.After = redact(o.Kind, nil, o.Live), redact(o.Kind, nil, after)
	return dr
}

// helmPodAddresses maps the Pods of a roll to their servers' advertised
// addresses under layout: helm, where a server's address is its release's
// Service and not its Pod's name; nil otherwise (the name says it).
func (b *builder) helmPodAddresses(sts string, pods []string) map[string]string {
	if !b.helmLayout() || b.d.PodAddress == nil {
		return nil
	}
	out := map[string]string{}
	for _, pod := range pods {
		ord, err := strconv.Atoi(pod[strings.LastIndex(pod, "-")+1:])
		if err != nil {
			continue
		}
		out[pod] = b.d.PodAddress(sts, ord)
	}
	return out
}

// helmKept lists, while the chart's objects are being taken over, the
// objects the chart rendered that neo4jctl does not manage: kept as they
// are, never deleted.
func (b *builder) helmKept() {
	if !b.helmLayout() {
		return
	}
	taking := false
	for _, dr := range b.drafts {
		if dr.Reason == TakeOverReason {
			taking = true
		}
	}
	if !taking {
		return
	}
	kept := HelmKept(b.d.Cluster, b.d.Namespace)
	if len(kept) == 0 {
		return
	}
	b.warn("Objects the Helm chart rendered that neo4jctl does not manage (kept as they are, never deleted): %s.", strings.Join(kept, ", "))
}

// HelmKept lists the addresses of the objects of an adopted cluster's
// releases that neo4jctl does not manage (clusterfile.HelmManaged).
func HelmKept(c *clusterfile.Cluster, namespace string) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range c.Spec.HelmReleases {
		objs, err := r.Objects()
		if err != nil {
			continue // Validate reported it
		}
		for _, o := range objs {
			if clusterfile.HelmManaged(r.Name, o) {
				continue
			}
			group, _, ok := strings.Cut(o.APIVersion, "/")
			if !ok {
				group = "core"
			}
			a := fmt.Sprintf("k8s:%s/%s/%s/%s", group, o.Kind, namespace, o.Name)
			if !seen[a] {
				seen[a] = true
				out = append(out, a)
			}
		}
	}
	sort.Strings(out)
	return out
}
