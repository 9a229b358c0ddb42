package helmimport

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/internal/state"
)

// chartDir finds the official chart's source, kept in shared/fixtures
// beside the repository (../shared from its root).
func chartDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("NEO4JCTL_HELM_CHART"); d != "" {
		return d
	}
	dir, _ := os.Getwd()
	for {
		c := filepath.Join(dir, "shared", "fixtures", "helm", "neo4j")
		if _, err := os.Stat(filepath.Join(c, "Chart.yaml")); err == nil {
			return c
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("the Neo4j chart fixture (shared/fixtures/helm/neo4j) is not beside the repository; set NEO4JCTL_HELM_CHART")
		}
		dir = parent
	}
}

// chartValues reads the chart's values.yaml and Chart.yaml.
func chartValues(t testing.TB) (map[string]any, ChartMetadata) {
	t.Helper()
	dir := chartDir(t)
	var vals map[string]any
	data, err := os.ReadFile(filepath.Join(dir, "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &vals); err != nil {
		t.Fatal(err)
	}
	var meta ChartMetadata
	data, err = os.ReadFile(filepath.Join(dir, "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &meta); err != nil {
		t.Fatal(err)
	}
	return vals, meta
}

// setValues turns --set style pairs into a values tree as Helm does
// (strings only: enough for these tests).
func setValues(pairs ...string) map[string]any {
	out := map[string]any{}
	for _, p := range pairs {
		k, v, _ := strings.Cut(p, "=")
		// Helm's --set splits on dots; a setting name escapes its own (\\.).
		parts := strings.Split(strings.ReplaceAll(k, `\.`, "\x00"), ".")
		for i := range parts {
			parts[i] = strings.ReplaceAll(parts[i], "\x00", ".")
		}
		m := out
		for _, part := range parts[:len(parts)-1] {
			sub, ok := m[part].(map[string]any)
			if !ok {
				sub = map[string]any{}
				m[part] = sub
			}
			m = sub
		}
		var x any = v
		switch v {
		case "true":
			x = true
		case "false":
			x = false
		}
		m[parts[len(parts)-1]] = x
	}
	return out
}

// releaseSecret builds a release Secret the way Helm's Secret driver
// writes it, for release name at revision rev.
func releaseSecret(t testing.TB, name string, rev int, status string, config map[string]any) ReleaseSecret {
	t.Helper()
	vals, meta := chartValues(t)
	meta.Name = "neo4j"
	r := &Release{Name: name, Namespace: "graph", Version: rev, Info: ReleaseInfo{Status: status},
		Chart: Chart{Metadata: meta, Values: vals}, Config: config, Manifest: manifestOf(t, name)}
	data, err := EncodeRelease(r)
	if err != nil {
		t.Fatal(err)
	}
	return ReleaseSecret{
		Name:   SecretPrefix + name + ".v" + itoa(rev),
		Labels: map[string]string{"owner": "helm", "name": name, "status": status, "version": itoa(rev)},
		Data:   data,
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// manifestOf is the manifest `helm template server-1` renders from the
// chart (testdata/server-1.manifest.yaml, its auth Secret included),
// renamed for release name.
func manifestOf(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "server-1.manifest.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(string(b), "server-1", name)
}

var standalone = []string{
	"neo4j.name=graph1", "neo4j.edition=enterprise", "neo4j.acceptLicenseAgreement=yes",
	"image.customImage=neo4j:5.26.0-enterprise", "volumes.data.mode=defaultStorageClass",
}

func sts(name, image string) StatefulSet {
	return StatefulSet{Name: name, Replicas: 1, Image: image}
}

func convert(t *testing.T, in Input, secrets ...ReleaseSecret) ([]byte, error) {
	t.Helper()
	rels, err := Newest(secrets)
	if err != nil {
		t.Fatal(err)
	}
	in.Releases = rels
	if in.Namespace == "" {
		in.Namespace = "graph"
	}
	return Convert(in)
}

func TestConvertStandaloneLoadsAsClusterFile(t *testing.T) {
	out, err := convert(t, Input{StatefulSets: []StatefulSet{sts("g1", "neo4j:5.26.0-enterprise")}},
		releaseSecret(t, "g1", 1, "superseded", setValues(append(standalone, "neo4j.resources.memory=3Gi")...)),
		releaseSecret(t, "g1", 2, "deployed", setValues(append(standalone, `config.db\.logs\.query\.enabled=INFO`)...)))
	if err != nil {
		t.Fatal(err)
	}
	c, err := clusterfile.Load("imported.yaml", out)
	if err != nil {
		t.Fatalf("imported file does not load: %v\n%s", err, out)
	}
	if c.Metadata.Name != "graph1" || c.Spec.Version != "5.26.0" || c.Spec.Servers != 1 || !c.Spec.AllowSmallCluster {
		t.Errorf("got name %q version %q servers %d allowSmall %v, want graph1 5.26.0 1 true", c.Metadata.Name, c.Spec.Version, c.Spec.Servers, c.Spec.AllowSmallCluster)
	}
	// plan refuses the file until adopting in place exists (plan/imported.go).
	if got := c.Metadata.Annotations[clusterfile.AnnotationImportedFromHelm]; got != "g1" {
		t.Errorf("annotation %s: got %q, want the release g1\n%s", clusterfile.AnnotationImportedFromHelm, got, out)
	}
	// Revision 2 is the deployed one: its config, not revision 1's memory.
	if got := c.Spec.Config["db.logs.query.enabled"]; got != "INFO" {
		t.Errorf("config db.logs.query.enabled: got %q, want INFO (from the deployed revision)\n%s", got, out)
	}
	if got := c.Spec.Resources.Neo4j.Limits.Memory; got != "2Gi" {
		t.Errorf("memory limit: got %q, want the chart default 2Gi (revision 1 is superseded)", got)
	}
	if c.Spec.Storage.Data.Size != "10Gi" {
		t.Errorf("got storage %q, want 10Gi", c.Spec.Storage.Data.Size)
	}
	// The chart's objects are adopted as they are: the layout records them,
	// the auth Secret (it holds the password) left out.
	if !c.IsHelmLayout() || len(c.Spec.HelmReleases) != 1 || c.Spec.HelmReleases[0].Name != "g1" || c.Spec.HelmReleases[0].Revision != 2 {
		t.Errorf("got layout %q releases %+v, want helm with g1 revision 2", c.Spec.Layout, c.Spec.HelmReleases)
	}
	objs, err := c.Spec.HelmReleases[0].Objects()
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, o := range objs {
		kinds[o.Kind]++
	}
	if kinds["Secret"] != 0 || kinds["StatefulSet"] != 1 || kinds["Service"] != 4 || kinds["ConfigMap"] != 6 {
		t.Errorf("recorded objects by kind: %v, want no Secret, 1 StatefulSet, 4 Services, 6 ConfigMaps", kinds)
	}
	for _, want := range []string{"# Secret prod-auth left out: it holds credentials", "# podSpec.podAntiAffinity=required: kept in the chart's objects below", "type LoadBalancer): kept in the chart's objects below"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("imported file lacks %q", want)
		}
	}
	if strings.Contains(string(out), "Zml4dHVyZS1ub3QtYS1zZWNyZXQ") || strings.Contains(string(out), "fixture-not-a-secret") {
		t.Errorf("imported file holds the chart's password")
	}
	// What had no equivalent is said in comments.
	for _, want := range []string{"# podSpec.terminationGracePeriodSeconds = 3600", "server.config.strict_validation.enabled=false not carried over", "Secret graph1-auth, key NEO4J_AUTH"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("imported file lacks the comment %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "password: ") && !strings.Contains(string(out), "key: \"password\"") {
		t.Errorf("imported file may hold a password:\n%s", out)
	}
}

func TestConvertRefusesOldImageAndUnknownValues(t *testing.T) {
	cases := []struct {
		name   string
		set    []string
		image  string
		fields []string
	}{
		{
			name:   "chart default 5.17",
			set:    []string{"neo4j.name=g", "neo4j.edition=enterprise", "neo4j.acceptLicenseAgreement=yes", "volumes.data.mode=defaultStorageClass"},
			image:  "neo4j:5.17.0-enterprise",
			fields: []string{"image.customImage"},
		},
		{
			name:   "value without equivalent",
			set:    append(standalone, "podSpec.nodeAffinity.foo=bar", "services.admin.enabled=false", "madeUp.value=1", "podSpec.terminationGracePeriodSeconds=60", "readinessProbe.periodSeconds=1", "ssl.bolt.publicCertificate.secretName=x"),
			image:  "neo4j:5.26.0-enterprise",
			fields: []string{"podSpec.nodeAffinity", "services.admin", "madeUp.value", "podSpec.terminationGracePeriodSeconds", "readinessProbe", "ssl"},
		},
		{
			name:   "selector volumes",
			set:    []string{"neo4j.name=g", "neo4j.edition=enterprise", "neo4j.acceptLicenseAgreement=yes", "image.customImage=neo4j:5.26.0-enterprise", "volumes.data.mode=selector"},
			image:  "neo4j:5.26.0-enterprise",
			fields: []string{"volumes.data.mode"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := convert(t, Input{StatefulSets: []StatefulSet{sts("r", tc.image)}}, releaseSecret(t, "r", 1, "deployed", setValues(tc.set...)))
			var refused *RefusedError
			if !errors.As(err, &refused) {
				t.Fatalf("got %v (file %d bytes), want a refusal", err, len(out))
			}
			if out != nil {
				t.Errorf("got a file with the refusal, want nothing written")
			}
			for _, f := range tc.fields {
				found := false
				for _, r := range refused.Refusals {
					found = found || r.Field == f
				}
				if !found {
					t.Errorf("refusals %v do not name %s", refused.Refusals, f)
				}
			}
			if tc.name == "chart default 5.17" && !strings.Contains(err.Error(), "upgrade to 5.26 first") {
				t.Errorf("got %q, want it to say upgrade to 5.26 first", err)
			}
		})
	}
}

func TestConvertThreeReleasesOneCluster(t *testing.T) {
	set := []string{"neo4j.name=prod", "neo4j.edition=enterprise", "neo4j.acceptLicenseAgreement=yes",
		"image.customImage=neo4j:5.26.0-enterprise", "volumes.data.mode=defaultStorageClass", "neo4j.minimumClusterSize=3",
		`config.db\.logs\.query\.threshold=2s`}
	var secrets []ReleaseSecret
	var live []StatefulSet
	for _, r := range []string{"server-1", "server-2", "server-3"} {
		secrets = append(secrets, releaseSecret(t, r, 1, "deployed", setValues(set...)))
		live = append(live, sts(r, "neo4j:5.26.0-enterprise"))
	}
	view := &Neo4jView{
		Servers:  map[string]state.Server{"a": {}, "b": {}, "c": {}},
		Settings: map[string]state.Setting{"db.logs.query.threshold": {Name: "db.logs.query.threshold", Value: "5s", Dynamic: true}},
		Databases: []state.DatabaseAllocation{
			{Name: "system", Type: "system"},
			{Name: "neo4j", Type: "standard", RequestedPrimaries: 3},
			{Name: "orders", Type: "standard", RequestedPrimaries: 1, RequestedSecondaries: 2},
		},
	}
	// server-2's claim was resized after install: the largest size is
	// declared (a claim never shrinks) and the difference commented.
	claims := map[string]string{"data-server-1-0": "10Gi", "data-server-2-0": "20Gi"}
	out, err := convert(t, Input{StatefulSets: live, Neo4j: view, Claims: claims}, secrets...)
	if err != nil {
		t.Fatal(err)
	}
	c, err := clusterfile.Load("imported.yaml", out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if c.Spec.Servers != 3 || c.Spec.SystemPrimaries != 3 || c.Spec.AllowSmallCluster {
		t.Errorf("got servers %d systemPrimaries %d allowSmall %v, want 3 3 false", c.Spec.Servers, c.Spec.SystemPrimaries, c.Spec.AllowSmallCluster)
	}
	if !strings.Contains(string(out), `# SHOW SETTINGS: db.logs.query.threshold runs with "5s"`) || c.Spec.Config["db.logs.query.threshold"] != "2s" {
		t.Errorf("want the configured 2s kept and the running 5s commented:\n%s", out)
	}
	if c.Spec.Storage.Data.Size != "20Gi" || !strings.Contains(string(out), "# claim data-server-2-0 requests 20Gi, the release's values 10Gi") {
		t.Errorf("data size: got %q, want the resized claim's 20Gi with a comment:\n%s", c.Spec.Storage.Data.Size, out)
	}
	if len(c.Spec.Databases) != 2 || c.Spec.Databases[1].Name != "orders" || c.Spec.Databases[1].Topology.Secondaries != 2 {
		t.Errorf("got databases %+v, want neo4j and orders (1 primary, 2 secondaries)", c.Spec.Databases)
	}

	// A release that differs from the others is refused by the value.
	secrets[2] = releaseSecret(t, "server-3", 1, "deployed", setValues(append(set, "neo4j.resources.memory=4Gi")...))
	_, err = convert(t, Input{StatefulSets: live}, secrets...)
	if err == nil || !strings.Contains(err.Error(), "release server-3: neo4j.resources.memory: differs from release server-1") {
		t.Errorf("got %v, want server-3's neo4j.resources.memory refused", err)
	}
	// Only two of three releases: minimumClusterSize says there are more.
	_, err = convert(t, Input{StatefulSets: live}, secrets[:2]...)
	if err == nil || !strings.Contains(err.Error(), "neo4j.minimumClusterSize") {
		t.Errorf("got %v, want the missing release named", err)
	}
}

func TestScalarPrintsWholeNumbersPlainly(t *testing.T) {
	for in, want := range map[any]string{float64(1000000): "1000000", 1.5: "1.5", "2Gi": "2Gi", true: "true", nil: ""} {
		if got := scalar(in); got != want {
			t.Errorf("scalar(%v): got %q, want %q", in, got, want)
		}
	}
}

func TestDecodeReleaseRoundTrip(t *testing.T) {
	s := releaseSecret(t, "x", 3, "deployed", setValues("neo4j.name=x"))
	r, err := DecodeRelease(s.Data)
	if err != nil {
		t.Fatal(err)
	}
	if r.Name != "x" || r.Version != 3 || r.Chart.Metadata.Version != "5.17.0" || r.Config["neo4j"].(map[string]any)["name"] != "x" {
		t.Errorf("got %+v", r)
	}
	if _, err := DecodeRelease([]byte("not base64!")); err == nil {
		t.Error("got no error for a broken record")
	}
}

// TestConvertLiveImageWins: the StatefulSet's image as it runs now wins
// over the release record (an out-of-band edit), and is still held to the
// 5.26 floor.
func TestConvertLiveImageWins(t *testing.T) {
	rec := releaseSecret(t, "g1", 1, "deployed", setValues(standalone...))
	out, err := convert(t, Input{StatefulSets: []StatefulSet{sts("g1", "neo4j:2025.01.0-enterprise")}}, rec)
	if err != nil {
		t.Fatal(err)
	}
	c, err := clusterfile.Load("imported.yaml", out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if c.Spec.Version != "2025.01.0" || !strings.Contains(string(out), "the live StatefulSet g1 runs neo4j:2025.01.0-enterprise") {
		t.Errorf("got version %q, want the live 2025.01.0 with a comment:\n%s", c.Spec.Version, out)
	}
	_, err = convert(t, Input{StatefulSets: []StatefulSet{sts("g1", "neo4j:5.17.0-enterprise")}}, rec)
	if err == nil || !strings.Contains(err.Error(), "StatefulSet/g1 image") || !strings.Contains(err.Error(), "upgrade to 5.26 first") {
		t.Errorf("got %v, want the live 5.17 image refused", err)
	}
}
