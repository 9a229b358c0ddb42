package cmd

import (
	"github.com/neo4jctl/neo4jctl/internal/pipeline"
	"github.com/neo4jctl/neo4jctl/plan"
)

// ignoreRules converts the cluster file's spec.ignore into plan rules.
func ignoreRules(t *pipeline.Target) []plan.IgnoreRule {
	return nil
}
