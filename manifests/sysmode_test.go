package manifests_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/manifests"
)

// effectiveSystemModes runs the rendered init-conf script of a StatefulSet
// in bash, once per ordinal, with that Pod's environment (the downward
// API's pod-index label, or only the hostname), and returns the
// server.cluster.system_database_mode each Neo4j would start with: the
// last line the script wrote, unless the neo4j container's environment
// overrides it (the image entrypoint writes NEO4J_* variables over
// neo4j.conf).
func effectiveSystemModes(t *testing.T, sts *appsv1.StatefulSet, confData string, ordinals int, withLabel bool) []string {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	spec := sts.Spec.Template.Spec
	if len(spec.InitContainers) != 1 || len(spec.InitContainers[0].Command) != 3 {
		t.Fatalf("init containers: %+v", spec.InitContainers)
	}
	initC := spec.InitContainers[0]
	var modes []string
	for i := range ordinals {
		dir := t.TempDir()
		image, mount, writable := filepath.Join(dir, "image"), filepath.Join(dir, "config"), filepath.Join(dir, "writable")
		for _, d := range []string{image, mount, writable} {
			if err := os.Mkdir(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		// The image's neo4j.conf, with the setting set (a later image
		// might): the script must not leave it twice.
		if err := os.WriteFile(filepath.Join(image, "neo4j.conf"), []byte("server.memory.heap.initial_size=512m\nserver.cluster.system_database_mode=PRIMARY\ndb.logs.query.threshold=1s\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		// The dynamic settings' ConfigMap, projected next to neo4j.conf.
		if err := os.WriteFile(filepath.Join(mount, "dynamic.conf"), []byte("db.logs.query.threshold=5s\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(mount, "neo4j.conf"), []byte(confData), 0o644); err != nil {
			t.Fatal(err)
		}
		script := strings.NewReplacer("/var/lib/neo4j/conf", image, "/config", mount, "/writable-conf", writable).Replace(initC.Command[2])
		cmd := exec.Command(bash, "-c", script)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOSTNAME=" + sts.Name + "-" + strconv.Itoa(i)}
		for _, e := range initC.Env {
			switch {
			case e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.labels['"+manifests.PodIndexLabel+"']":
				if withLabel {
					cmd.Env = append(cmd.Env, e.Name+"="+strconv.Itoa(i))
				}
			case e.ValueFrom != nil:
				t.Fatalf("init-conf env %s: unexpected source %+v", e.Name, e.ValueFrom)
			default:
				cmd.Env = append(cmd.Env, e.Name+"="+e.Value)
			}
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("init-conf script for ordinal %d: %v\n%s", i, err, out)
		}
		conf, err := os.ReadFile(filepath.Join(writable, "neo4j.conf"))
		if err != nil {
			t.Fatal(err)
		}
		mode, n := "PRIMARY (default)", 0
		for _, l := range strings.Split(string(conf), "\n") {
			if v, ok := strings.CutPrefix(l, "server.cluster.system_database_mode="); ok {
				mode, n = v, n+1
			}
		}
		if got := strings.Count(string(conf), "db.logs.query.threshold="); got != 1 || !strings.Contains(string(conf), "db.logs.query.threshold=5s\n") {
			t.Errorf("ordinal %d: neo4j.conf should set the dynamic db.logs.query.threshold once, to the dynamic ConfigMap's 5s:\n%s", i, conf)
		}
		if n > 1 {
			t.Errorf("ordinal %d: neo4j.conf sets server.cluster.system_database_mode %d times (strict validation refuses duplicates):\n%s", i, n, conf)
		}
		for _, e := range spec.Containers[0].Env {
			if e.Name == "NEO4J_server_cluster_system__database__mode" {
				mode = e.Value
			}
		}
		modes = append(modes, mode)
	}
	return modes
}

// TestSystemPrimariesPerOrdinal: spec.systemPrimaries: 3 on five servers
// makes ordinals 0-2 system primaries and 3-4 secondaries, with or without
// the pod-index label; a secondary pool is all secondaries; the bootstrap
// count is systemPrimaries.
func TestSystemPrimariesPerOrdinal(t *testing.T) {
	c := enterprise()
	c.Spec.Servers = 5
	c.Spec.SystemPrimaries = 3
	c.Spec.ServerPools = []clusterfile.ServerPool{{Name: "read", Servers: 2, ModeConstraint: "SECONDARY"}}
	clusterfile.Default(c)
	objs := render(t, c)
	var conf string
	stss := map[string]*appsv1.StatefulSet{}
	for _, o := range objs {
		switch o.GetKind() {
		case "ConfigMap":
			if d, ok, _ := unstructured.NestedString(o.Object, "data", "neo4j.conf"); ok {
				conf = d
			}
		case "StatefulSet":
			var s appsv1.StatefulSet
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &s); err != nil {
				t.Fatal(err)
			}
			stss[s.Name] = &s
		}
	}
	if !strings.Contains(conf, "dbms.cluster.minimum_initial_system_primaries_count=3\n") {
		t.Errorf("neo4j.conf lacks minimum_initial_system_primaries_count=3:\n%s", conf)
	}
	for _, withLabel := range []bool{true, false} {
		got := strings.Join(effectiveSystemModes(t, stss[manifests.StatefulSetName(c, manifests.MainPool)], conf, 5, withLabel), ",")
		if want := "PRIMARY,PRIMARY,PRIMARY,SECONDARY,SECONDARY"; got != want {
			t.Errorf("main pool (pod-index label %v): system modes %s, want %s", withLabel, got, want)
		}
		got = strings.Join(effectiveSystemModes(t, stss[manifests.StatefulSetName(c, "read")], conf, 2, withLabel), ",")
		if want := "SECONDARY,SECONDARY"; got != want {
			t.Errorf("read pool (pod-index label %v): system modes %s, want %s", withLabel, got, want)
		}
	}
}
