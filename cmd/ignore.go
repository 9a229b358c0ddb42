package cmd

import (
	"github.com/neo4jctl/neo4jctl/internal/pipeline"
	"github.com/neo4jctl/neo4jctl/plan"
)

// ignoreRules converts the cluster file's spec.ignore into plan rules.
func ignoreRules(t *pipeline.Target) []plan.IgnoreRule {
	var out []plan.IgnoreRule
	for _, r := range t.Cluster.Spec.Ignore {
		out = append(out, plan.IgnoreRule{Address: r.Address, JSONPointers: r.JSONPointers, Managers: r.ManagedFieldsManagers})
	}
	return out
}
