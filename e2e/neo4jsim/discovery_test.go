package neo4jsim

import (
	"strings"
	"testing"
)

// discoveryStates reads showParallelDiscoveryState on every server.
func discoveryStates(t *testing.T, s *Simulator) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, srv := range s.Servers() {
		d := newDriver(t, "bolt://"+srv.Listen, testPassword)
		rows := mustRun(t, d, "CALL dbms.cluster.showParallelDiscoveryState()", nil)
		if len(rows) != 1 {
			t.Fatalf("%s: %v", srv.Name, rows)
		}
		out = append(out, rows[0])
	}
	return out
}

// The manual's procedure for moving an entire cluster, on a cluster
// started in V1_ONLY: refused until the v2 setting is there, then three
// moves through V1_OVER_V2 and V2_OVER_V1 (both Matching on every server)
// to V2_ONLY (N/A); a fourth move has nowhere to go. On 2025.x the
// procedures do not exist.
func TestDiscoveryMove(t *testing.T) {
	base := map[string]string{"dbms.cluster.discovery.resolver_type": "K8S", "dbms.cluster.discovery.version": "V1_ONLY"}
	s := startSim(t, Config{Servers: 3, Settings: base})
	d := newDriver(t, s.URI("bolt"), testPassword)
	if st := discoveryStates(t, s)[0]; st["mode"] != "V1_ONLY" || st["stateComparison"] != "N/A" || st["v1ServerCount"] != "3" || st["v2ServerCount"] != "N/A" {
		t.Errorf("V1_ONLY: %v", st)
	}
	if _, err := run(t, d, "CALL dbms.cluster.moveToNextDiscoveryVersion()", nil); err == nil || !strings.Contains(err.Error(), "dbms.kubernetes.discovery.v2.service_port_name") {
		t.Fatalf("move without the v2 setting: %v, want a failure naming it", err)
	}

	prepared := map[string]string{"dbms.kubernetes.discovery.v2.service_port_name": "tcp-cluster"}
	for k, v := range base {
		prepared[k] = v
	}
	s = startSim(t, Config{Servers: 3, Settings: prepared})
	d = newDriver(t, s.URI("bolt"), testPassword)
	for _, want := range []struct{ mode, cmp, v1, v2 string }{
		{"V1_OVER_V2", "Matching", "3", "3"}, {"V2_OVER_V1", "Matching", "3", "3"}, {"V2_ONLY", "N/A", "N/A", "3"},
	} {
		if _, err := run(t, d, "CALL dbms.cluster.moveToNextDiscoveryVersion()", nil); err != nil {
			t.Fatalf("move to %s: %v", want.mode, err)
		}
		for _, st := range discoveryStates(t, s) {
			if st["mode"] != want.mode || st["stateComparison"] != want.cmp || st["v1ServerCount"] != want.v1 || st["v2ServerCount"] != want.v2 {
				t.Errorf("after the move to %s: %v", want.mode, st)
			}
		}
	}
	if _, err := run(t, d, "CALL dbms.cluster.moveToNextDiscoveryVersion()", nil); err == nil {
		t.Errorf("a move past V2_ONLY succeeded")
	}

	cal := startSim(t, Config{Servers: 3, Version: "2025.10.1"})
	dc := newDriver(t, cal.URI("bolt"), testPassword)
	if _, err := run(t, dc, "CALL dbms.cluster.showParallelDiscoveryState()", nil); err == nil || !strings.Contains(err.Error(), "no procedure") {
		t.Errorf("showParallelDiscoveryState on 2025.10.1: %v, want ProcedureNotFound", err)
	}
}

// dbms.security.reloadTLS() exists from 2025.03 only.
func TestReloadTLSFrom202503(t *testing.T) {
	for _, tc := range []struct {
		version string
		ok      bool
	}{{"5.26.0", false}, {"2025.02.0", false}, {"2025.03.0", true}, {"2025.10.1", true}} {
		s := startSim(t, Config{Servers: 1, Version: tc.version})
		d := newDriver(t, s.URI("bolt"), testPassword)
		_, err := run(t, d, "CALL dbms.security.reloadTLS()", nil)
		if (err == nil) != tc.ok {
			t.Errorf("reloadTLS on %s: %v, want success %v", tc.version, err, tc.ok)
		}
	}
}
