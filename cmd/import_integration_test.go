package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/neo4jctl/neo4jctl/e2e/helmtool"
	"github.com/neo4jctl/neo4jctl/e2e/neo4jsim"
	"github.com/neo4jctl/neo4jctl/e2e/testenv"
)

// TestImportHelmStandalone installs the official chart with real helm on
// the local control plane, imports the release and checks that validate
// accepts the cluster file; the chart's default image (5.17) is refused
// with "upgrade to 5.26 first" and nothing is written.
func TestImportHelmStandalone(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the local control plane and helm (integration)")
	}
	chart := helmtool.Chart(t)
	helmtool.Path(t)
	env := testenv.Shared(t)
	ns := testenv.Namespace(t, env)
	const password = "import-s3cret-pw"

	install := func(release string, extra ...string) {
		t.Helper()
		args := append([]string{"install", release, chart, "-n", ns,
			"--set", "neo4j.edition=enterprise", "--set", "neo4j.acceptLicenseAgreement=yes",
			"--set", "volumes.data.mode=defaultStorageClass", "--set", "neo4j.password=" + password}, extra...)
		if out, err := helmtool.Run(t, env.Kubeconfig, args...); err != nil {
			t.Fatalf("helm install %s: %v\n%s", release, err, out)
		}
	}
	install("standalone", "--set", "neo4j.name=graph1", "--set", "image.customImage=neo4j:5.26.0-enterprise",
		"--set", "neo4j.resources.memory=3Gi", "--set", `config.db\.logs\.query\.enabled=INFO`)

	file := filepath.Join(t.TempDir(), "graph1.yaml")
	code, stdout, stderr := runApplyCLI(t, env, "import", "--helm-release", "standalone", "-n", ns, "-o", file, "--skip-neo4j")
	if code != 0 {
		t.Fatalf("import: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`name: "graph1"`, `version: "5.26.0"`, `memory: "3Gi"`, `db.logs.query.enabled: "INFO"`, "# podSpec.terminationGracePeriodSeconds = 3600"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("cluster file lacks %q:\n%s", want, data)
		}
	}
	if strings.Contains(string(data)+stdout+stderr, password) {
		t.Errorf("the chart's password appears in the cluster file or the output")
	}
	t.Logf("imported:\n%s", data)
	code, stdout, stderr = runApplyCLI(t, env, "validate", "-f", file)
	if code != 0 {
		t.Fatalf("validate of the imported file: exit %d\n%s%s\nfile:\n%s", code, stdout, stderr, data)
	}

	// The chart's default image is Neo4j 5.17: refused, nothing written.
	install("old", "--set", "neo4j.name=graph2")
	refused := filepath.Join(t.TempDir(), "graph2.yaml")
	code, _, stderr = runApplyCLI(t, env, "import", "--helm-cluster", "graph2", "-n", ns, "-o", refused, "--skip-neo4j")
	if code == 0 || !strings.Contains(stderr, "upgrade to 5.26 first") || !strings.Contains(stderr, "image.customImage") {
		t.Errorf("import of the 5.17 default: exit %d, stderr:\n%s\nwant a refusal naming image.customImage and saying upgrade to 5.26 first", code, stderr)
	}
	t.Logf("refusal:\n%s", stderr)
	if _, err := os.Stat(refused); !os.IsNotExist(err) {
		t.Errorf("a refused import wrote %s", refused)
	}
}

// TestImportHelmThreeReleases: the chart installs a three-server cluster
// as three releases of one neo4j.name; --helm-cluster finds them all and
// they become one cluster file of three servers.
func TestImportHelmThreeReleases(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the local control plane and helm (integration)")
	}
	chart := helmtool.Chart(t)
	helmtool.Path(t)
	env := testenv.Shared(t)
	ns := testenv.Namespace(t, env)
	for _, r := range []string{"server-1", "server-2", "server-3"} {
		out, err := helmtool.Run(t, env.Kubeconfig, "install", r, chart, "-n", ns,
			"--set", "neo4j.name=prod", "--set", "neo4j.edition=enterprise", "--set", "neo4j.acceptLicenseAgreement=yes",
			"--set", "neo4j.minimumClusterSize=3", "--set", "image.customImage=neo4j:5.26.0-enterprise",
			"--set", "volumes.data.mode=defaultStorageClass", "--set", "neo4j.password=three-s3cret-pw")
		if err != nil {
			t.Fatalf("helm install %s: %v\n%s", r, err, out)
		}
	}
	// Neo4j's own view comes from the simulator (real Bolt); the password
	// is read from the chart's Secret (NEO4J_AUTH=neo4j/<password>).
	sim, err := neo4jsim.Start(neo4jsim.Config{Servers: 3, Password: "three-s3cret-pw"})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	file := filepath.Join(t.TempDir(), "prod.yaml")
	code, stdout, stderr := runApplyCLI(t, env, "import", "--helm-cluster", "prod", "-n", ns, "-o", file, "--neo4j-uri", sim.URI("bolt"))
	if code != 0 {
		t.Fatalf("import: exit %d\n%s%s", code, stdout, stderr)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"servers: 3", "systemPrimaries: 3", "one server per release: server-1, server-2, server-3", "databases:\n    - name: \"neo4j\""} {
		if !strings.Contains(string(data), want) {
			t.Errorf("cluster file lacks %q:\n%s", want, data)
		}
	}
	if strings.Contains(string(data)+stdout+stderr, "three-s3cret-pw") {
		t.Errorf("the password appears in the file or the output")
	}
	if strings.Contains(string(data), "allowSmallCluster") {
		t.Errorf("three servers need no allowSmallCluster:\n%s", data)
	}
	if code, stdout, stderr = runApplyCLI(t, env, "validate", "-f", file); code != 0 {
		t.Fatalf("validate: exit %d\n%s%s\n%s", code, stdout, stderr, data)
	}
	// Two of the three named: the third is missing and import says so.
	code, _, stderr = runApplyCLI(t, env, "import", "--helm-release", "server-1", "--helm-release", "server-2", "-n", ns, "-o", filepath.Join(t.TempDir(), "two.yaml"), "--skip-neo4j")
	if code == 0 || !strings.Contains(stderr, "neo4j.minimumClusterSize") {
		t.Errorf("import of two of three releases: exit %d, stderr:\n%s\nwant the minimumClusterSize refusal", code, stderr)
	}
}
