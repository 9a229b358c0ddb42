package views

import (
	"bytes"
	"strings"
	"testing"

	"github.com/neo4jctl/neo4jctl/drift"
	"github.com/neo4jctl/neo4jctl/internal/pipeline"
	"github.com/neo4jctl/neo4jctl/internal/state"
	"github.com/neo4jctl/neo4jctl/plan"
	"github.com/neo4jctl/neo4jctl/plan/plantest"
)

// canary is planted inside values whose keys are not credentials, only the
// text inside them is: a JVM property, a --flag value, a URL's userinfo.
const canary = "canary"

// canaryScenarios plant the canary in the cluster file's
// server.jvm.additional and in the live ConfigMap, the live Neo4j setting
// and an env value of the live StatefulSet, for a fresh and a converged
// (drifted) cluster.
func canaryScenarios() []plantest.Scenario {
	jvm := "-XX:+UseG1GC -Dfoo.password=" + canary + " -Dx.token=" + canary
	c := plantest.Cluster(3)
	c.Spec.Config["server.jvm.additional"] = jvm
	fresh := plantest.Scenario{Name: "fresh", Desired: plantest.Desired(c), Kube: plantest.Fresh(c), Neo4j: state.Neo4j{Reason: "no Pods yet"}}

	k := plantest.Converged(c, 3)
	cm := plantest.Object(&k, "ConfigMap", plantest.Name+"-config")
	cm.Live["data"].(map[string]any)["neo4j.conf"] = plantest.Conf(map[string]string{
		"server.jvm.additional":       "-Dfoo.password=old-" + canary,
		"server.memory.heap.max_size": "2G",
		"dbms.connector.uri":          "bolt://neo4j:" + canary + "@db:7687",
	})
	sts := plantest.Object(&k, "StatefulSet", plantest.Name)
	ctr := sts.Live["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
	ctr["env"] = append(ctr["env"].([]any), map[string]any{"name": "JAVA_OPTS", "value": "--credential " + canary})
	ctr["args"] = []any{"--token", canary}
	n := plantest.Neo4j(3)
	n.Settings["server.jvm.additional"] = state.Setting{Name: "server.jvm.additional", Value: "-Dfoo.password=live-" + canary}
	drifted := plantest.Scenario{Name: "drifted", Desired: plantest.Desired(c), Kube: k, Neo4j: n}
	return []plantest.Scenario{fresh, drifted}
}

// TestNoCredentialInAnyOutput renders the canary scenarios in every plan
// format, the saved plan file and every drift format, and counts the
// canary: it must appear 0 times.
func TestNoCredentialInAnyOutput(t *testing.T) {
	for _, s := range canaryScenarios() {
		p, err := plan.Compute(s.Desired, s.Kube, s.Neo4j, s.Options)
		if err != nil {
			t.Fatal(err)
		}
		outputs := map[string]string{}
		for format := range formats {
			outputs["plan -o "+format] = render(t, format, false, p)
		}
		var saved bytes.Buffer
		if err := plan.Encode(&saved, p); err != nil {
			t.Fatal(err)
		}
		outputs["plan --out"] = saved.String()

		c := s.Desired.Cluster
		tg := &pipeline.Target{File: "clusters/prod.yaml", Cluster: c, Namespace: plantest.Namespace, Desired: s.Desired}
		r := drift.FromPlan(p, pipeline.Observed{Kube: s.Kube, Neo4j: s.Neo4j}, tg)
		for format := range driftFormats {
			v, err := NewDriftView(format, false)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := v.Render(&buf, []*drift.Report{r}); err != nil {
				t.Fatal(err)
			}
			outputs["drift -o "+format] = buf.String()
		}
		for name, out := range outputs {
			if n := strings.Count(out, canary); n != 0 {
				t.Errorf("%s/%s: the canary appears %d times, want 0:\n%s", s.Name, name, n, out)
			}
			if s.Name == "drifted" && name != "plan -o compact" && !strings.Contains(out, plan.Sensitive) {
				t.Errorf("%s/%s: no %s marker: the canary's value is not shown at all", s.Name, name, plan.Sensitive)
			}
		}
	}
}
