package plan

import (
	"fmt"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
)

// refuseImported refuses a cluster file that `neo4jctl import` wrote from
// Helm releases: neo4jctl would render its own StatefulSet beside the
// chart's, so apply would start new, empty servers next to the running
// ones instead of managing them (adopting in place is not built yet:
// docs/import.md). The refusal makes apply stop before any write, and plan
// still shows everything else.
func (b *builder) refuseImported() {
	if b.d.Cluster == nil {
		return
	}
	releases, ok := b.d.Cluster.Metadata.Annotations[clusterfile.AnnotationImportedFromHelm]
	if !ok {
		return
	}
	b.refuse("cluster",
		fmt.Sprintf("this file was imported from Helm release(s) %s: neo4jctl cannot adopt the chart's objects in place yet, so applying it would start new, empty servers beside the chart's", releases),
		"keep managing the cluster with Helm for now (docs/import.md says what adopting needs); to create a new cluster from this file elsewhere, remove the annotation "+clusterfile.AnnotationImportedFromHelm)
}
