package pipeline

import (
	"fmt"

	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/internal/state"
)

// ForeignWarnings reports the objects labelled into the cluster's ApplySet
// that neo4jctl did not write (state.Kube.Foreign): plan never deletes
// them, and says so rather than leaving them unexplained.
func ForeignWarnings(k state.Kube) []string {
	var out []string
	for _, o := range k.Foreign {
		out = append(out, fmt.Sprintf("%s is labelled %s as a member of this cluster's ApplySet, but neo4jctl never wrote it (no neo4jctl entry in its managedFields): it is not deleted; remove the label if it is not neo4jctl's",
			o.Address, kube.ApplySetPartOfLabel))
	}
	return out
}
