package plan_test

import (
	"strings"
	"testing"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
)

// A file that import wrote from Helm releases is refused: applying it would
// start neo4jctl's own servers beside the chart's.
func TestComputeRefusesAFileImportedFromHelm(t *testing.T) {
	s := scenario("no-changes")
	if p := mustCompute(t, s.Desired, s.Kube, s.Neo4j, s.Options); len(p.Refusals) != 0 {
		t.Fatalf("without the annotation: refusals %v, want none", p.Refusals)
	}
	s = scenario("no-changes")
	s.Desired.Cluster.Metadata.Annotations = map[string]string{clusterfile.AnnotationImportedFromHelm: "g1,g2,g3"}
	p := mustCompute(t, s.Desired, s.Kube, s.Neo4j, s.Options)
	if len(p.Refusals) != 1 || !strings.Contains(p.Refusals[0].Reason, "g1,g2,g3") || !strings.Contains(p.Refusals[0].Fix, clusterfile.AnnotationImportedFromHelm) {
		t.Fatalf("refusals %+v: want one naming the releases, with the annotation in its fix", p.Refusals)
	}
}
