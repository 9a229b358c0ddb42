package pipeline

import (
	"strings"
	"testing"
)

func TestLoadExampleAndVersionWarnings(t *testing.T) {
	tg, err := Load("../../examples/quickstart.yaml", "")
	if err != nil {
		t.Fatal(err)
	}
	if tg.Namespace != "neo4j" || len(tg.Objects) == 0 || tg.Desired.ClusterFileSHA256 == "" {
		t.Fatalf("got namespace %q, %d objects, sha %q", tg.Namespace, len(tg.Objects), tg.Desired.ClusterFileSHA256)
	}
	if got := VersionWarnings(tg, "v1.37.2"); len(got) != 0 {
		t.Errorf("v1.37.2: got warnings %v, want none", got)
	}
	got := VersionWarnings(tg, "v1.29.0")
	if len(got) == 0 || !strings.Contains(strings.Join(got, "\n"), "persistentVolumeClaimRetentionPolicy") {
		t.Errorf("v1.29.0: got %v, want the PVC retention policy named", got)
	}
}

func TestPodDNSNameMatchesManifests(t *testing.T) {
	tg, err := Load("../../examples/secondaries.yaml", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range tg.Desired.Pools {
		got := tg.Desired.PodAddress(p.StatefulSet, 1)
		if !strings.HasPrefix(got, p.StatefulSet+"-1.") || !strings.HasSuffix(got, ".svc.cluster.local") {
			t.Errorf("pool %s: got %q", p.StatefulSet, got)
		}
	}
}

func TestForwarderLeavesNonPodAddressesAlone(t *testing.T) {
	f := &forwarder{open: map[string]string{}}
	for _, addr := range []string{"127.0.0.1:7687", "graph.example.com:7687", "not-an-address"} {
		if got := f.resolve(addr); got != addr {
			t.Errorf("resolve(%q) = %q, want it unchanged", addr, got)
		}
	}
}
