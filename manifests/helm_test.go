package manifests

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
)

// secretDoc matches the chart's auth Secret document, which import leaves
// out of the cluster file.
var secretDoc = regexp.MustCompile(`(?s)---\n# Source: neo4j/templates/neo4j-auth.yaml\n.*?\n---`)

// helmCluster is an adopted three-release cluster whose manifests are what
// `helm template` renders from the official chart
// (internal/helmimport/testdata), and whose spec holds the values the
// chart ran them with.
func helmCluster(t *testing.T, extra string) *clusterfile.Cluster {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "internal", "helmimport", "testdata", "server-1.manifest.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	manifest := secretDoc.ReplaceAllString(string(b), "---")
	var rel strings.Builder
	for _, name := range []string{"server-1", "server-2", "server-3"} {
		rel.WriteString("    - name: " + name + "\n      manifest: |\n")
		for _, line := range strings.Split(strings.ReplaceAll(manifest, "server-1", name), "\n") {
			rel.WriteString("        " + line + "\n")
		}
	}
	file := `apiVersion: neo4jctl.io/v1alpha1
kind: Neo4jCluster
metadata:
  name: prod
  namespace: graph
spec:
  edition: enterprise
  version: "5.26.0"
  image: "neo4j:5.26.0-enterprise"
  acceptLicenseAgreement: "yes"
  servers: 3
  systemPrimaries: 3
  layout: helm
  resources:
    neo4j:
      requests: {cpu: "1000m", memory: "2Gi"}
      limits: {cpu: "1000m", memory: "2Gi"}
  storage:
    data:
      size: 10Gi
  auth:
    secretRef:
      name: prod-password
` + extra + `  helmReleases:
` + rel.String()
	c, err := clusterfile.Load("prod.yaml", []byte(file))
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return c
}

func recordedObject(t *testing.T, c *clusterfile.Cluster, release, kind, name string) map[string]any {
	t.Helper()
	for _, r := range c.Spec.HelmReleases {
		if r.Name != release {
			continue
		}
		objs, err := r.Objects()
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			if o.Kind == kind && o.Name == name {
				o.Object["metadata"].(map[string]any)["namespace"] = "graph"
				return o.Object
			}
		}
	}
	t.Fatalf("no recorded %s %s in release %s", kind, name, release)
	return nil
}

// TestRenderHelmLayoutKeepsTheChartsObjects: with the values the chart ran
// with, neo4jctl renders each release's StatefulSet, Services and
// ConfigMaps exactly as the chart did (so a plan right after import has
// nothing to change, and no Pod restarts), and none of the objects it does
// not manage (plan.HelmKept lists those).
func TestRenderHelmLayoutKeepsTheChartsObjects(t *testing.T) {
	c := helmCluster(t, "")
	objs, err := Render(c, "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range objs {
		got = append(got, o.GetKind()+"/"+o.GetName())
		// Every object's name starts with its release's (server-N).
		release := strings.Join(strings.SplitN(o.GetName(), "-", 3)[:2], "-")
		if want := recordedObject(t, c, release, o.GetKind(), o.GetName()); !reflect.DeepEqual(o.Object, want) {
			t.Errorf("%s %s differs from the chart's:\ngot  %v\nwant %v", o.GetKind(), o.GetName(), o.Object, want)
		}
	}
	want := []string{}
	for _, kind := range []string{"ConfigMap", "Service", "StatefulSet"} {
		for _, r := range []string{"server-1", "server-2", "server-3"} {
			switch kind {
			case "ConfigMap":
				for _, s := range []string{"default-config", "env", "k8s-config", "server-logs-config", "user-config", "user-logs-config"} {
					want = append(want, kind+"/"+r+"-"+s)
				}
			case "Service":
				want = append(want, kind+"/"+r, kind+"/"+r+"-admin", kind+"/"+r+"-internals")
			default:
				want = append(want, kind+"/"+r)
			}
		}
	}
	slices.Sort(want)
	slices.Sort(got)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rendered objects:\ngot  %v\nwant %v", got, want)
	}
}

// TestRenderHelmLayoutChangesOnlyWhatTheFileSets: a setting, the image and
// the memory change the user config and the neo4j container, and the
// chart's config checksum (which rolls the Pod); the selector, serviceName
// and claim templates never change.
func TestRenderHelmLayoutChangesOnlyWhatTheFileSets(t *testing.T) {
	c := helmCluster(t, "  config:\n    db.logs.query.enabled: \"INFO\"\n")
	c.Spec.Image = "neo4j:5.26.1-enterprise"
	objs, err := Render(c, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if o.GetName() == "server-2-user-config" {
			data := o.Object["data"].(map[string]any)
			if data["db.logs.query.enabled"] != "INFO" || data["server.config.strict_validation.enabled"] != "false" || data["server.jvm.additional"] == nil {
				t.Errorf("user config: got %v, want the setting added beside the chart's own", data)
			}
		}
		if o.GetKind() != "StatefulSet" {
			continue
		}
		rec := recordedObject(t, c, o.GetName(), "StatefulSet", o.GetName())
		for _, f := range []string{"selector", "serviceName", "volumeClaimTemplates", "podManagementPolicy", "replicas"} {
			if !reflect.DeepEqual(o.Object["spec"].(map[string]any)[f], rec["spec"].(map[string]any)[f]) {
				t.Errorf("%s spec.%s changed", o.GetName(), f)
			}
		}
		tmpl := o.Object["spec"].(map[string]any)["template"].(map[string]any)
		ann := tmpl["metadata"].(map[string]any)["annotations"].(map[string]any)
		recAnn := rec["spec"].(map[string]any)["template"].(map[string]any)["metadata"].(map[string]any)["annotations"].(map[string]any)
		key := HelmConfigChecksumAnnotation(o.GetName())
		if ann[key] == recAnn[key] || !strings.HasPrefix(ann[key].(string), "neo4jctl-") {
			t.Errorf("%s: annotation %s = %v, want a new checksum (the chart's was %v)", o.GetName(), key, ann[key], recAnn[key])
		}
		ct := tmpl["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
		if ct["image"] != "neo4j:5.26.1-enterprise" {
			t.Errorf("%s image: got %v", o.GetName(), ct["image"])
		}
	}
}

func TestHelmLayoutNames(t *testing.T) {
	c := helmCluster(t, "")
	pools := Pools(c)
	if len(pools) != 3 || pools[1].StatefulSet != "server-2" || pools[1].Servers != 1 {
		t.Fatalf("pools: got %+v, want one single-server pool per release", pools)
	}
	if got := PodName(c, "server-2", 0); got != "server-2-0" {
		t.Errorf("PodName: got %s, want server-2-0", got)
	}
	if got := BoltAddress(c, "graph", "server-3", 0); got != "server-3.graph.svc.cluster.local:7687" {
		t.Errorf("BoltAddress: got %s, want the release Service's name (the chart's advertised address)", got)
	}
	if got := PodDNSName(c, "graph", "server-3", 1); got == PodDNSName(c, "graph", "server-3", 0) {
		t.Errorf("PodDNSName of ordinal 1 is ordinal 0's (%s): a server would be taken for a Pod the chart never runs", got)
	}
	if ns, pod, ok := PodAt(c, "server-3.graph.svc.cluster.local"); !ok || ns != "graph" || pod != "server-3-0" {
		t.Errorf("PodAt: got %s %s %v", ns, pod, ok)
	}
	if got := PodSelector(c); got[HelmLabelName] != "prod" {
		t.Errorf("PodSelector: got %v", got)
	}
}
