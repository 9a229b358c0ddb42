package suites

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/neo4jctl/neo4jctl/e2e/testenv"
)

// mutation is one out-of-band change a person makes with kubectl.
type mutation struct {
	name    string
	env     []string // e.g. KUBE_EDITOR for `kubectl edit`
	kubectl []string
	// object ("Kind/name") whose field must show up, with the manager
	// kubectl records for the change. Empty for a deletion.
	object, field, manager string
	// action neo4jctl must plan for object: "update" or, after a
	// deletion, "create".
	action string
	// noChange: the live object is still what the cluster file says — an
	// equal value written differently, a reordered keyed list, or a field
	// neo4jctl does not render. neo4jctl must plan nothing (exit 0).
	noChange bool
	// neo4j plans and reverts with the Neo4j plane: scaling in is refused
	// without it (fail closed), so the replicas case needs it.
	neo4j bool
	// undo restores what apply does not (it changes nothing that is no
	// change), so that kubectl diff is clean for the next case.
	undo []string
	// kubectlMayDiffer: kubectl diff is known to report a difference here
	// although the objects are equal (list order); only neo4jctl's answer
	// is asserted, kubectl's is logged.
	kubectlMayDiffer bool
}

// TestPlanMatchesKubectlDiff checks the Kubernetes half of the plan against
// an independent witness: `kubectl diff --server-side` of the very objects
// neo4jctl renders, under neo4jctl's field manager with conflicts forced
// (the question neo4jctl asks the API server). For every out-of-band
// change made with the real kubectl binary, both must name the same set of
// changed objects, and neo4jctl must also name the changed field and who
// changed it. Changes that are no change (1 vs 1000m, reordered ports)
// must not show up in neo4jctl at all.
func TestPlanMatchesKubectlDiff(t *testing.T) {
	t.Parallel()
	requireE2E(t)
	env := testenv.Shared(t)
	c := newCluster(t, env, clusterOpts{mutate: func(doc map[string]any) {
		// Written the short way so that the "1000m" case below is an
		// equal value written differently.
		setPath(doc, "1", "spec", "resources", "neo4j", "requests", "cpu")
	}})
	rendered := c.rendered()
	all := renderedObjects(t, c)

	// A fresh namespace: every rendered object is a create, and kubectl
	// agrees that all of them differ.
	p, res := c.plan()
	if res.code != 2 {
		t.Fatalf("plan of a fresh namespace: want exit 2 (changes)\n%s", res)
	}
	for _, ch := range p.Changes {
		if strings.HasPrefix(ch.Address, "k8s:") && strings.Join(ch.Actions, ",") != "create" {
			t.Errorf("fresh namespace: %s planned as %v, want create", ch.Address, ch.Actions)
		}
	}
	if got := p.k8sChanges(); !equalStrings(got, all) {
		t.Errorf("fresh namespace: plan creates %v, want every rendered object %v", got, all)
	}
	if got := c.kubectlDiff(rendered); !equalStrings(got, all) {
		t.Errorf("fresh namespace: kubectl diff reports %v, want %v", got, all)
	}

	// Applied: nothing left, by both witnesses.
	c.converge()
	t.Run("render prints what apply applies", func(t *testing.T) {
		// `neo4jctl render` promises the objects apply would apply; a
		// difference here means `render | kubectl diff` cannot be trusted.
		parent := c.t
		c.t = t
		defer func() { c.t = parent }()
		if got := c.kubectlDiff(rendered); len(got) != 0 {
			t.Errorf("after apply, kubectl diff of `neo4jctl render` still reports %v: apply writes something render does not print (run with E2E_DEBUG_DIFF=1 to see it)", got)
		}
	})
	// The comparison below needs kubectl to apply exactly what neo4jctl
	// applies: render plus the ApplySet membership label apply adds.
	rendered = c.renderedAsApplied()
	if got := c.kubectlDiff(rendered); len(got) != 0 {
		t.Fatalf("after apply kubectl diff still reports %v: neo4jctl applied something other than what it renders", got)
	}

	sts := "StatefulSet/" + c.name
	muts := []mutation{
		{name: "kubectl scale", kubectl: []string{"scale", "statefulset/" + c.name, "--replicas=4"},
			// kubectl v1.32 records `kubectl scale` (the scale subresource)
			// under the manager "kubectl", not "kubectl-scale".
			object: sts, field: "spec.replicas", manager: "kubectl", action: "update", neo4j: true},
		{name: "kubectl set image", kubectl: []string{"set", "image", "statefulset/" + c.name, "neo4j=neo4j:5.26.1-enterprise"},
			object: sts, field: "containers[name=neo4j].image", manager: "kubectl-set", action: "update"},
		{name: "kubectl set env", kubectl: []string{"set", "env", "statefulset/" + c.name, "-c", "neo4j", "NEO4J_ACCEPT_LICENSE_AGREEMENT=yes"},
			object: sts, field: "env[name=NEO4J_ACCEPT_LICENSE_AGREEMENT]", manager: "kubectl-set", action: "update"},
		{name: "kubectl patch resources", kubectl: []string{"patch", "statefulset", c.name, "-p",
			`{"spec":{"template":{"spec":{"containers":[{"name":"neo4j","resources":{"limits":{"memory":"2Gi"}}}]}}}}`},
			object: sts, field: "resources.limits.memory", manager: "kubectl-patch", action: "update"},
		{name: "kubectl patch template annotation", kubectl: []string{"patch", "statefulset", c.name, "-p",
			`{"spec":{"template":{"metadata":{"annotations":{"neo4jctl.io/config-hash":"0"}}}}}`},
			object: sts, field: "annotations", manager: "kubectl-patch", action: "update"},
		{name: "kubectl label", kubectl: []string{"label", "service", c.name, "app.kubernetes.io/version=9.9.9", "--overwrite"},
			object: "Service/" + c.name, field: "metadata.labels", manager: "kubectl-label", action: "update"},
		{name: "kubectl patch Service targetPort", kubectl: []string{"patch", "service", c.name, "--type=json", "-p",
			`[{"op":"replace","path":"/spec/ports/1/targetPort","value":7475}]`},
			object: "Service/" + c.name, field: "targetPort", manager: "kubectl-patch", action: "update"},
		// The dynamic settings' ConfigMap (the restart settings' one is an
		// immutable revision: the API server refuses an edit).
		{name: "kubectl edit ConfigMap", env: []string{"KUBE_EDITOR=sed -i -e s/edits/changes/"},
			kubectl: []string{"edit", "configmap", c.name + "-config-dynamic"},
			object:  "ConfigMap/" + c.name + "-config-dynamic", field: "data", manager: "kubectl-edit", action: "update"},
		{name: "kubectl edit Role", env: []string{"KUBE_EDITOR=sed -i -e /-\\ watch/d"},
			kubectl: []string{"edit", "role", c.name + "-discovery"},
			object:  "Role/" + c.name + "-discovery", field: "rules", manager: "kubectl-edit", action: "update"},
		{name: "kubectl patch PDB", kubectl: []string{"patch", "pdb", c.name, "--type=merge", "-p", `{"spec":{"maxUnavailable":2}}`},
			object: "PodDisruptionBudget/" + c.name, field: "spec.maxUnavailable", manager: "kubectl-patch", action: "update"},
		{name: "kubectl delete NetworkPolicy", kubectl: []string{"delete", "networkpolicy", c.name},
			object: "NetworkPolicy/" + c.name, action: "create"},

		// No change, however it was written.
		{name: "cpu 1 written as 1000m", kubectl: []string{"patch", "statefulset", c.name, "-p",
			`{"spec":{"template":{"spec":{"containers":[{"name":"neo4j","resources":{"requests":{"cpu":"1000m"}}}]}}}}`},
			noChange: true},
		{name: "memory 1Gi written as 1024Mi", kubectl: []string{"patch", "statefulset", c.name, "-p",
			`{"spec":{"template":{"spec":{"containers":[{"name":"neo4j","resources":{"requests":{"memory":"1024Mi"}}}]}}}}`},
			noChange: true},
		// The API server keeps a quantity's format (decimal here), so the
		// live object really says 1073741824 — an equal amount.
		{name: "memory 1Gi written as 1073741824", kubectl: []string{"patch", "statefulset", c.name, "-p",
			`{"spec":{"template":{"spec":{"containers":[{"name":"neo4j","resources":{"limits":{"memory":"1073741824"}}}]}}}}`},
			noChange: true, kubectlMayDiffer: true,
			undo: []string{"patch", "statefulset", c.name, "-p",
				`{"spec":{"template":{"spec":{"containers":[{"name":"neo4j","resources":{"limits":{"memory":"1Gi"}}}]}}}}`}},
		{name: "Service ports reordered", kubectl: []string{"patch", "service", c.name + "-headless", "--type=json", "-p", reversedPorts(t, c, c.name+"-headless")},
			noChange: true, kubectlMayDiffer: true,
			undo: []string{"patch", "service", c.name + "-headless", "--type=json", "-p", reversedPorts(t, c, c.name+"-headless", true)}},
		{name: "annotation neo4jctl does not render", kubectl: []string{"annotate", "configmap", c.name + "-config-dynamic", "example.com/owner=team-a"},
			noChange: true},
	}
	for _, m := range muts {
		t.Run(m.name, func(t *testing.T) {
			parent := c.t
			c.t = t
			defer func() { c.t = parent }()
			// Kubernetes changes are compared on the Kubernetes plane alone,
			// as kubectl knows nothing of Neo4j; reverting them then needs
			// no Neo4j either.
			c.skipNeo4j = !m.neo4j
			if res := c.kubectl(m.env, m.kubectl...); res.code != 0 {
				t.Fatalf("the out-of-band change failed:\n%s", res)
			}
			// A template change makes the StatefulSet controller roll the
			// Pods on its own; let that finish so kubectl diff (which
			// compares status too) is not reading a moving target.
			c.waitRollout()
			p, res := c.plan()
			kd := c.stableKubectlDiff(rendered)
			got := p.k8sChanges()
			t.Logf("neo4jctl plan: %v; kubectl diff: %v", got, kd)

			if m.noChange {
				if res.code != 0 || len(got) != 0 {
					t.Errorf("neo4jctl plans a change where the live objects equal the cluster file (want exit 0, no changes):\n%s", res)
				}
				if len(kd) != 0 && !m.kubectlMayDiffer {
					t.Errorf("kubectl diff reports %v for an equal object", kd)
				}
			} else {
				if res.code != 2 {
					t.Errorf("plan: want exit 2 (changes)\n%s", res)
				}
				if !equalStrings(got, kd) {
					t.Errorf("changed objects differ: neo4jctl plan %v, kubectl diff %v", got, kd)
				}
				want := m.object
				ch, ok := p.change(c.ns, want)
				switch {
				case !ok:
					t.Errorf("plan does not change %s:\n%s", want, res.stdout)
				case strings.Join(ch.Actions, ",") != m.action:
					t.Errorf("%s planned as %v, want %s", want, ch.Actions, m.action)
				case m.field != "":
					if !ch.hasField(m.field, m.manager) {
						b, _ := json.MarshalIndent(ch.FieldDiffs, "", "  ")
						t.Errorf("%s: no field diff on %q naming manager %q; field diffs:\n%s", want, m.field, m.manager, b)
					}
				}
			}

			// Revert: apply takes the fields back, and the plan is empty again.
			if m.undo != nil {
				if res := c.kubectl(nil, m.undo...); res.code != 0 {
					t.Fatalf("undo:\n%s", res)
				}
			}
			c.converge()
			c.settle(rendered)
		})
	}
}

// settle waits for a reverted cluster to be quiet: the rollout done and
// kubectl diff empty. kubectl diff compares whole objects, status included,
// so a PodDisruptionBudget whose status is still catching up with
// restarted Pods shows as a difference for a moment.
func (c *cluster) settle(rendered string) {
	c.t.Helper()
	c.waitRollout()
	var kd []string
	for range 50 {
		if kd = c.kubectlDiff(rendered); len(kd) == 0 {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	c.t.Errorf("after reverting, kubectl diff still reports %v", kd)
}

func (c *cluster) waitRollout() {
	c.t.Helper()
	if res := c.kubectl(nil, "rollout", "status", "statefulset/"+c.name, "--timeout=2m"); res.code != 0 {
		c.t.Fatalf("rollout status:\n%s", res)
	}
}

// stableKubectlDiff runs kubectl diff until two runs in a row agree: a
// PodDisruptionBudget's status follows Pods with a delay, and kubectl diff
// shows status.
func (c *cluster) stableKubectlDiff(rendered string) []string {
	c.t.Helper()
	prev := c.kubectlDiff(rendered)
	for range 10 {
		time.Sleep(300 * time.Millisecond)
		cur := c.kubectlDiff(rendered)
		if equalStrings(prev, cur) {
			return cur
		}
		prev = cur
	}
	return prev
}

// kubectlDiff runs `kubectl diff --server-side` of the rendered objects
// under neo4jctl's field manager and returns the objects that differ.
// kubectl exits 0 with no differences, 1 with differences, >1 on error.
func (c *cluster) kubectlDiff(rendered string) []string {
	c.t.Helper()
	res := c.kubectl(nil, "diff", "--server-side", "--field-manager=neo4jctl", "--force-conflicts", "-f", rendered)
	switch res.code {
	case 0:
		return nil
	case 1:
		if os.Getenv("E2E_DEBUG_DIFF") != "" {
			c.t.Log(res.stdout)
		}
		objs := kubectlDiffObjects(res.stdout)
		if len(objs) == 0 {
			c.t.Fatalf("kubectl diff exited 1 but named no object:\n%s", res)
		}
		return stripNamespace(objs, c.ns)
	}
	c.t.Fatalf("kubectl diff failed:\n%s", res)
	return nil
}

// renderedAsApplied writes the rendered objects with the ApplySet
// membership label (applyset.kubernetes.io/part-of) that apply adds to
// every object, read back from the live StatefulSet.
func (c *cluster) renderedAsApplied() string {
	c.t.Helper()
	res := c.kubectl(nil, "get", "statefulset", c.name, "-o", `jsonpath={.metadata.labels.applyset\.kubernetes\.io/part-of}`)
	if res.code != 0 || res.stdout == "" {
		c.t.Fatalf("read the ApplySet label of the StatefulSet:\n%s", res)
	}
	partOf := res.stdout
	res = c.neo4jctl("render", "-f", c.file, "-o", "json")
	if res.code != 0 {
		c.t.Fatalf("render:\n%s", res)
	}
	var list map[string]any
	if err := json.Unmarshal([]byte(res.stdout), &list); err != nil {
		c.t.Fatal(err)
	}
	for _, it := range list["items"].([]any) {
		obj := it.(map[string]any)
		setPath(obj, partOf, "metadata", "labels", "applyset.kubernetes.io/part-of")
	}
	b, _ := json.Marshal(list)
	path := filepath.Join(c.dir, "rendered-as-applied.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		c.t.Fatal(err)
	}
	return path
}

// stripNamespace turns "Kind/ns/name" into "Kind/name" for objects in ns,
// so both witnesses' sets compare.
func stripNamespace(objs []string, ns string) []string {
	out := make([]string, len(objs))
	for i, o := range objs {
		out[i] = strings.Replace(o, "/"+ns+"/", "/", 1)
	}
	return out
}

// renderedObjects lists "Kind/name" of what the cluster file renders.
func renderedObjects(t *testing.T, c *cluster) []string {
	t.Helper()
	res := c.neo4jctl("render", "-f", c.file, "-o", "json")
	if res.code != 0 {
		t.Fatalf("render:\n%s", res)
	}
	var list struct {
		Items []struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &list); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, it := range list.Items {
		out = append(out, it.Kind+"/"+it.Metadata.Name)
	}
	return sortedCopy(out)
}

// reversedPorts is a JSON patch that writes a Service's ports in reverse
// order: the same list keyed by port and protocol, written differently.
func reversedPorts(t *testing.T, c *cluster, svc string, keep ...bool) string {
	t.Helper()
	res := c.kubectl(nil, "get", "service", svc, "-o", "jsonpath={.spec.ports}")
	if res.code != 0 {
		t.Fatalf("read the ports of %s:\n%s", svc, res)
	}
	var ports []any
	if err := json.Unmarshal([]byte(res.stdout), &ports); err != nil || len(ports) < 2 {
		t.Fatalf("ports of %s: %v %q", svc, err, res.stdout)
	}
	if len(keep) == 0 {
		for i, j := 0, len(ports)-1; i < j; i, j = i+1, j-1 {
			ports[i], ports[j] = ports[j], ports[i]
		}
	}
	b, _ := json.Marshal([]any{map[string]any{"op": "replace", "path": "/spec/ports", "value": ports}})
	return string(b)
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// change finds the plan's change of "Kind/name" in ns.
func (p planDoc) change(ns, kindName string) (planChange, bool) {
	kind, name, _ := strings.Cut(kindName, "/")
	for _, ch := range p.Changes {
		parts := strings.Split(strings.TrimPrefix(ch.Address, "k8s:"), "/")
		if len(parts) == 4 && parts[1] == kind && parts[2] == ns && parts[3] == name {
			return ch, true
		}
	}
	return planChange{}, false
}

// hasField reports whether a field diff's path contains field and names
// manager.
func (ch planChange) hasField(field, manager string) bool {
	for _, fd := range ch.FieldDiffs {
		if strings.Contains(fd.Path, field) && fd.Manager == manager {
			return true
		}
	}
	return false
}
