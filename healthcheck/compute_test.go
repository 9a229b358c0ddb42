package healthcheck

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/neo4jctl/neo4jctl/internal/state"
)

var now = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

const ns = "graph"

func host(i int) string {
	return []string{"prod-0", "prod-1", "prod-2"}[i] + ".prod-headless.graph.svc.cluster.local"
}

// healthy is a three-server cluster with one database, every part of it
// fine. Each case breaks one thing.
func healthy() Input {
	in := Input{
		Now: now,
		Expected: Expected{
			Cluster: ns + "/prod", Namespace: ns, Edition: "enterprise",
			StatefulSets: []string{"prod"}, PDB: "prod",
			Databases: []ExpectedDatabase{{Name: "movies", Primaries: 3}},
			Memory:    []MemoryBudget{{StatefulSet: "prod", Heap: 384 << 20, PageCache: 256 << 20, Limit: 1 << 30}},
		},
		Kube: state.KubeHealth{
			PDBs:         []state.PDBHealth{{Name: "prod", DisruptionsAllowed: 1, CurrentHealthy: 3, DesiredHealthy: 2, ExpectedPods: 3}},
			StatefulSets: []state.StatefulSetHealth{{Name: "prod", Replicas: 3, ReadyReplicas: 3, UpdatedReplicas: 3, CurrentRevision: "prod-1", UpdateRevision: "prod-1"}},
		},
		Neo4j: state.Neo4j{Reachable: true, Edition: "enterprise", Version: "5.26.0", Servers: map[string]state.Server{}},
	}
	for i := 0; i < 3; i++ {
		pod := strings.SplitN(host(i), ".", 2)[0]
		id := "id-" + pod
		in.Expected.Servers = append(in.Expected.Servers, ExpectedServer{Pod: pod, StatefulSet: "prod", Host: host(i)})
		in.Kube.Pods = append(in.Kube.Pods, state.PodHealth{
			Name: pod, StatefulSet: "prod", Ordinal: i, Phase: "Running", Ready: true, Created: now.Add(-time.Hour),
			Claims:     []string{"data-" + pod},
			Containers: []state.ContainerHealth{{Name: "neo4j", Ready: true}},
		})
		in.Kube.Claims = append(in.Kube.Claims, state.ClaimHealth{Name: "data-" + pod, Phase: "Bound", Capacity: "2Gi"})
		in.Volumes = append(in.Volumes, state.VolumeUsage{Claim: "data-" + pod, Pod: pod, UsedBytes: 512 << 20, CapacityBytes: 100 << 30})
		in.Neo4j.Servers[id] = state.Server{ID: id, Name: "server-" + pod, Address: host(i) + ":7687",
			State: state.ServerEnabled, Health: state.HealthAvailable, Hosting: []string{"movies", "system"}}
		for _, db := range []string{"system", "movies"} {
			in.Neo4j.Databases = append(in.Neo4j.Databases, state.DatabaseAllocation{
				Name: db, ServerID: id, Role: "primary", Writer: i == 0, RequestedStatus: "online", CurrentStatus: "online",
				RequestedPrimaries: 3, CurrentPrimaries: 3, ReplicationLag: lag(0),
			})
			in.StatusCheck = append(in.StatusCheck, state.StatusCheck{Database: db, ServerID: id, ServerName: "server-" + pod,
				ReplicationSuccessful: true, MemberStatus: "APPLYING",
				RecognisedLeader: "id-prod-0", RecognisedLeaderTerm: 5})
		}
	}
	return in
}

func dbRow(in *Input, db, server string) *state.DatabaseAllocation {
	for i := range in.Neo4j.Databases {
		if in.Neo4j.Databases[i].Name == db && in.Neo4j.Databases[i].ServerID == server {
			return &in.Neo4j.Databases[i]
		}
	}
	panic("no row " + db + "@" + server)
}

func lag(n int64) *int64 { return &n }

func setServer(in *Input, id string, f func(*state.Server)) {
	s := in.Neo4j.Servers[id]
	f(&s)
	in.Neo4j.Servers[id] = s
}

func TestHealthyClusterPasses(t *testing.T) {
	r := Compute(healthy())
	if r.Status != Pass || r.Failed(true) {
		b, _ := json.MarshalIndent(r, "", "  ")
		t.Fatalf("got status %s, want PASS:\n%s", r.Status, b)
	}
	// TLS is off in this cluster: SKIP, never a PASS it did not earn.
	for _, c := range r.Checks {
		if c.ID == IDTLS && c.Status != Skip {
			t.Errorf("TLS off: got %s, want SKIP", c.Status)
		}
	}
}

func TestChecks(t *testing.T) {
	for _, tc := range []struct {
		name   string
		break_ func(*Input)
		id     string
		want   Status
		// evidence must appear in the check's summary, evidence or fix.
		evidence []string
	}{
		{"pod not ready", func(in *Input) {
			in.Kube.Pods[1].Ready = false
			in.Kube.Pods[1].Containers[0].Waiting = "ContainerCreating"
		}, IDPods, Fail, []string{"2 of 3 Pods Ready", "prod-1: not Ready", "waiting: ContainerCreating"}},
		{"pod missing", func(in *Input) { in.Kube.Pods = in.Kube.Pods[:2] }, IDPods, Fail, []string{"prod-2: missing"}},
		{"crash loop back-off", func(in *Input) {
			in.Kube.Pods[2].Containers[0] = state.ContainerHealth{Name: "neo4j", RestartCount: 1, Waiting: "CrashLoopBackOff",
				LastTermination: "OOMKilled", LastExitCode: 137, LastFinished: now.Add(-2 * time.Hour)}
		}, IDRestarts, Fail, []string{"prod-2/neo4j: 1 restart", "OOMKilled (exit 137)", "CrashLoopBackOff"}},
		{"three restarts in 15 minutes", func(in *Input) {
			in.Kube.Pods[0].Containers[0] = state.ContainerHealth{Name: "neo4j", RestartCount: 3, LastTermination: "Error", LastExitCode: 1, LastFinished: now.Add(-time.Minute)}
		}, IDRestarts, Fail, []string{"3 restarts", "Error (exit 1) 1m0s ago"}},
		{"three restarts long ago", func(in *Input) {
			in.Kube.Pods[0].Containers[0] = state.ContainerHealth{Name: "neo4j", Ready: true, RestartCount: 3, LastTermination: "Error", LastFinished: now.Add(-time.Hour)}
		}, IDRestarts, Pass, nil},
		{"one recent restart", func(in *Input) {
			in.Kube.Pods[0].Containers[0] = state.ContainerHealth{Name: "neo4j", Ready: true, RestartCount: 1, LastTermination: "Completed", LastFinished: now.Add(-5 * time.Minute)}
		}, IDRestarts, Warn, []string{"1 restart"}},
		{"claim pending", func(in *Input) { in.Kube.Claims[2].Phase = "Pending"; in.Kube.Claims[2].StorageClass = "fast" }, IDClaims, Fail,
			[]string{"2 of 3 claims the Pods mount Bound", `data-prod-2 (Pod prod-2): Pending, storage class "fast"`}},
		{"leftover claim pending", func(in *Input) {
			in.Kube.Claims = append(in.Kube.Claims, state.ClaimHealth{Name: "data-prod-3", Phase: "Pending", StorageClass: "fast"})
		}, IDClaims, Warn, []string{`data-prod-3: Pending, storage class "fast", no Pod mounts it`}},
		{"pdb at zero", func(in *Input) { in.Kube.PDBs[0].DisruptionsAllowed = 0; in.Kube.PDBs[0].CurrentHealthy = 2 }, IDPDB, Fail,
			[]string{"next voluntary eviction", "will be refused", "0 allowed, 2 healthy of 3"}},
		{"pdb missing", func(in *Input) { in.Kube.PDBs = nil }, IDPDB, Fail, []string{"not found"}},
		{"rollout unfinished", func(in *Input) {
			in.Kube.StatefulSets[0].UpdateRevision = "prod-2"
			in.Kube.StatefulSets[0].UpdatedReplicas = 1
		}, IDRollout, Warn, []string{"1 of 3 Pods at revision prod-2 (current prod-1)"}},
		{"warning event", func(in *Input) {
			in.Kube.Events = []state.EventHealth{
				{Type: "Warning", Object: "Pod/prod-1", Reason: "BackOff", Message: "Back-off restarting failed container", Count: 7, Last: now.Add(-10 * time.Minute)},
				{Type: "Warning", Object: "Pod/prod-1", Reason: "BackOff", Message: "Back-off restarting failed container ", Count: 2, Last: now.Add(-12 * time.Minute)},
				{Type: "Warning", Object: "Pod/prod-1", Reason: "Old", Count: 1, Last: now.Add(-2 * time.Hour)},
				{Type: "Normal", Object: "Pod/prod-1", Reason: "Pulled", Count: 1, Last: now.Add(-time.Minute)},
			}
		}, IDEvents, Warn, []string{"1 Warning event in the last hour", "Pod/prod-1 BackOff ×9, 10m0s ago: Back-off restarting"}},
		{"kube unreadable", func(in *Input) { in.KubeErr = "forbidden" }, IDPods, Unknown, []string{"forbidden"}},

		{"server unavailable", func(in *Input) {
			setServer(in, "id-prod-1", func(s *state.Server) { s.Health = state.HealthUnavailable })
		},
			IDServers, Fail, []string{"2 of 3 servers", "prod-1: server server-prod-1 Enabled, Unavailable", "logs prod-1"}},
		{"server cordoned", func(in *Input) { setServer(in, "id-prod-2", func(s *state.Server) { s.State = state.ServerCordoned }) },
			IDServers, Fail, []string{"prod-2: server server-prod-2 Cordoned, Available", "ENABLE SERVER 'server-prod-2'", "how long is unknown"}},
		{"server free", func(in *Input) {
			setServer(in, "id-prod-2", func(s *state.Server) { s.State = state.ServerFree; s.Hosting = nil })
		},
			IDServers, Fail, []string{"Free", "ENABLE"}},
		{"server missing", func(in *Input) { delete(in.Neo4j.Servers, "id-prod-2") }, IDServers, Fail,
			[]string{"prod-2: no server in SHOW SERVERS advertises " + host(2)}},
		{"stray server", func(in *Input) {
			in.Neo4j.Servers["id-old"] = state.Server{ID: "id-old", Name: "old", Address: "prod-3.prod-headless.graph.svc.cluster.local:7687", State: state.ServerEnabled, Health: state.HealthUnavailable}
		}, IDStrays, Warn, []string{"1 server in SHOW SERVERS belongs to no Pod", "old (id-old): Enabled, Unavailable"}},
		{"neo4j unreachable", func(in *Input) { in.Neo4j = state.Neo4j{Reason: "no Ready server Pod"} }, IDServers, Unknown, []string{"no Ready server Pod"}},

		{"database offline", func(in *Input) {
			r := dbRow(in, "movies", "id-prod-1")
			r.CurrentStatus, r.StatusMessage = "offline", "store corrupted"
		}, IDDatabases, Fail, []string{"movies on server-prod-1 (Pod prod-1): requested online, current offline: store corrupted"}},
		{"database quarantined", func(in *Input) { dbRow(in, "movies", "id-prod-2").CurrentStatus = "quarantined" }, IDDatabases, Fail, []string{"current quarantined"}},
		{"topology short", func(in *Input) {
			for i := range in.Neo4j.Databases {
				if in.Neo4j.Databases[i].Name == "movies" {
					in.Neo4j.Databases[i].CurrentPrimaries = 2
				}
			}
		}, IDTopology, Fail, []string{"movies: file 3p/0s, requested 3p/0s, online 2p/0s"}},
		{"topology differs from file", func(in *Input) { in.Expected.Databases[0].Primaries = 5 }, IDTopology, Warn, []string{"file 5p/0s, requested 3p/0s"}},
		{"database missing", func(in *Input) {
			in.Expected.Databases = append(in.Expected.Databases, ExpectedDatabase{Name: "orders"})
		},
			IDTopology, Fail, []string{"orders: does not exist"}},

		{"no writer", func(in *Input) { dbRow(in, "movies", "id-prod-0").Writer = false }, IDWriters, Fail, []string{"movies: no server reports itself writer"}},
		{"composite database has no writer", func(in *Input) {
			in.Neo4j.Databases = append(in.Neo4j.Databases, state.DatabaseAllocation{Name: "all", Type: "composite", RequestedStatus: "online", CurrentStatus: "online"})
		}, IDWriters, Pass, nil},
		{"split-brain on one read", func(in *Input) { dbRow(in, "movies", "id-prod-2").Writer = true }, IDWriters, Warn,
			[]string{"movies: split-brain: 2 servers report themselves writer", "server-prod-0 (Pod prod-0) reports role primary, writer", "server-prod-2 (Pod prod-2) reports role primary, writer", "a single read"}},
		{"split-brain gone on the second read", func(in *Input) {
			in.Recheck = &Recheck{After: 5 * time.Second, Databases: append([]state.DatabaseAllocation(nil), in.Neo4j.Databases...)}
			dbRow(in, "movies", "id-prod-2").Writer = true
		}, IDWriters, Warn, []string{"one writer 5s later"}},
		{"split-brain on two reads", func(in *Input) {
			dbRow(in, "movies", "id-prod-2").Writer = true
			in.Recheck = &Recheck{After: 5 * time.Second, Databases: append([]state.DatabaseAllocation(nil), in.Neo4j.Databases...)}
		}, IDWriters, Fail, []string{"split-brain", "still 2 writers 5s later", "neo4jctl does not act on this"}},

		{"a copy far behind its writer", func(in *Input) {
			dbRow(in, "movies", "id-prod-2").ReplicationLag = lag(1500)
			dbRow(in, "movies", "id-prod-1").ReplicationLag = lag(3)
		}, IDLag, Warn, []string{"more than 1000 transactions behind", "movies on server-prod-2 (Pod prod-2) (primary): 1500 transactions behind the writer"}},
		{"a few transactions behind is normal", func(in *Input) {
			dbRow(in, "movies", "id-prod-2").ReplicationLag = lag(ReplicationLagWarn)
		}, IDLag, Pass, []string{"movies: at most 1000 transactions behind (server-prod-2 (Pod prod-2))"}},
		{"no copy reports a lag", func(in *Input) {
			for i := range in.Neo4j.Databases {
				in.Neo4j.Databases[i].ReplicationLag = nil
			}
		}, IDLag, Skip, []string{"reports no replicationLag"}},
		{"member cannot replicate", func(in *Input) {
			in.StatusCheck[5].ReplicationSuccessful, in.StatusCheck[5].MemberStatus, in.StatusCheck[5].Error = false, "UNAVAILABLE", "Server is unavailable"
		}, IDStatusCheck, Fail, []string{"movies: 2 of 3 members can replicate, a write would still succeed", "server-prod-2 (Pod prod-2) (UNAVAILABLE: Server is unavailable)"}},
		{"no majority can replicate", func(in *Input) {
			in.StatusCheck[3].MemberStatus = "UNAVAILABLE"
			in.StatusCheck[5].MemberStatus = "REPLICATING"
		}, IDStatusCheck, Fail, []string{"1 of 3 members can replicate, a write would not succeed", "(REPLICATING)"}},
		// The manual's values: replicationSuccessful is the answering
		// server's, the same in every row; memberStatus is per member.
		{"manual's memberStatus values are fit", func(in *Input) {
			for i := range in.StatusCheck {
				in.StatusCheck[i].MemberStatus = "APPLYING"
			}
		}, IDStatusCheck, Pass, nil},
		{"one member behind, replicationSuccessful still true column-wise", func(in *Input) {
			in.StatusCheck[5].MemberStatus = "UNAVAILABLE"
		}, IDStatusCheck, Fail, []string{"movies: 2 of 3 members can replicate, a write would still succeed"}},
		{"the requester could not replicate", func(in *Input) {
			for i := range in.StatusCheck {
				if in.StatusCheck[i].Database == "movies" {
					in.StatusCheck[i].ReplicationSuccessful = false
				}
			}
		}, IDStatusCheck, Fail, []string{"movies: the status check entry could not be replicated to a majority"}},
		{"members disagree on the leader", func(in *Input) {
			in.StatusCheck[5].RecognisedLeader, in.StatusCheck[5].RecognisedLeaderTerm = "id-prod-1", 4
		}, IDStatusCheck, Warn, []string{"trusting server-prod-0 (Pod prod-0) (term 5, the highest)", "server-prod-2 (Pod prod-2) recognises server-prod-1 (Pod prod-1) in term 4"}},
		{"statusCheck failed", func(in *Input) { in.StatusCheck, in.StatusCheckErr = nil, "procedure not found" }, IDStatusCheck, Unknown, []string{"procedure not found"}},
		{"statusCheck absent before 5.24", func(in *Input) { in.StatusCheck = nil; in.Neo4j.Version = "5.20.0" }, IDStatusCheck, Skip, []string{"5.20.0"}},

		{"store at 96 % of the claim", func(in *Input) { in.Volumes[1].UsedBytes = 2 << 30 * 96 / 100 },
			IDStorage, Fail, []string{"data-prod-1 (Pod prod-1): 1966Mi of 2Gi used (96 %)", "spec.storage.data.size"}},
		{"store at 85 % of the claim", func(in *Input) { in.Volumes[1].UsedBytes = 2 << 30 * 85 / 100 }, IDStorage, Warn, []string{"(85 %)"}},
		{"claim capacity unknown: the filesystem's", func(in *Input) {
			in.Kube.Claims[0].Capacity = ""
			in.Volumes[0].CapacityBytes = 600 << 20
		}, IDStorage, Warn, []string{"data-prod-0 (Pod prod-0): 512Mi of 600Mi used (85 %)"}},
		{"volume stats unreadable", func(in *Input) { in.Volumes, in.VolumesErr = nil, "forbidden" }, IDStorage, Unknown, []string{"forbidden", "nodes/proxy"}},
		{"volume stats off", func(in *Input) { in.Volumes, in.VolumesSkip = nil, "--volume-stats=off" }, IDStorage, Skip, []string{"--volume-stats=off"}},
		{"heap and page cache too big", func(in *Input) { in.Expected.Memory[0].PageCache = 700 << 20 }, IDMemory, Fail,
			[]string{"heap 384Mi + page cache 700Mi = 1084Mi of a 1Gi limit", "OOMKilled"}},
		{"little room", func(in *Input) { in.Expected.Memory[0].PageCache = 600 << 20 }, IDMemory, Warn, []string{"984Mi of a 1Gi limit"}},
		{"certificate expires in 3 days", func(in *Input) {
			in.Expected.TLSSecret = "prod-tls"
			in.Certificates = []Certificate{{Secret: "prod-tls", Subject: "CN=prod", NotAfter: now.Add(72 * time.Hour)}}
		}, IDTLS, Fail, []string{"less than 7 days", "prod-tls: CN=prod expires 2026-12-10T12:00:00Z (in 3.0 days)"}},
		{"certificate expires in 20 days", func(in *Input) {
			in.Expected.TLSSecret = "prod-tls"
			in.Certificates = []Certificate{{Secret: "prod-tls", NotAfter: now.Add(20 * 24 * time.Hour)}}
		}, IDTLS, Warn, []string{"less than 21 days"}},
		{"certificate fine", func(in *Input) {
			in.Expected.TLSSecret = "prod-tls"
			in.Certificates = []Certificate{{Secret: "prod-tls", NotAfter: now.Add(60 * 24 * time.Hour)}}
		}, IDTLS, Pass, nil},
		{"certificate secret unreadable", func(in *Input) { in.Expected.TLSSecret = "prod-tls"; in.CertificateErr = "not found" }, IDTLS, Unknown, []string{"not found"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := healthy()
			tc.break_(&in)
			r := Compute(in)
			var got *Check
			for i := range r.Checks {
				if r.Checks[i].ID == tc.id {
					got = &r.Checks[i]
				}
			}
			if got == nil {
				t.Fatalf("no check %s", tc.id)
			}
			if got.Status != tc.want {
				t.Fatalf("%s: got %s (%s; %q), want %s", tc.id, got.Status, got.Summary, got.Evidence, tc.want)
			}
			text := got.Summary + "\n" + strings.Join(got.Evidence, "\n") + "\n" + got.Fix
			for _, e := range tc.evidence {
				if !strings.Contains(text, e) {
					t.Errorf("%s: got\n%s\nwant it to contain %q", tc.id, text, e)
				}
			}
			if (tc.want == Fail || tc.want == Warn || tc.want == Unknown) && got.Fix == "" {
				t.Errorf("%s: %s without a fix", tc.id, tc.want)
			}
			// Only the broken check moves: every other check still passes
			// (or is skipped), so a case cannot pass by breaking everything.
			for _, c := range r.Checks {
				if c.ID != tc.id && c.Status != Pass && c.Status != Skip && !related(tc.id, c.ID) {
					t.Errorf("%s also %s: %s %q", c.ID, c.Status, c.Summary, c.Evidence)
				}
			}
			wantFailed := tc.want == Fail || tc.want == Unknown
			if r.Failed(false) != wantFailed {
				t.Errorf("Failed(false): got %v, want %v", r.Failed(false), wantFailed)
			}
			if tc.want == Warn && !r.Failed(true) {
				t.Errorf("Failed(failOnWarn): got false for a WARN")
			}
		})
	}
}

// related lists checks that one fault legitimately moves together.
func related(broken, other string) bool {
	groups := [][]string{
		{IDPods, IDRestarts, IDClaims, IDPDB, IDRollout, IDEvents, IDStorage},
		{IDServers, IDStrays, IDDatabases, IDTopology, IDWriters, IDStatusCheck, IDLag},
	}
	for _, g := range groups {
		in := func(id string) bool {
			for _, x := range g {
				if x == id {
					return true
				}
			}
			return false
		}
		if in(broken) && in(other) && (broken == IDPods || broken == IDServers) {
			// A whole plane unreadable or a Pod gone moves its plane's checks.
			return true
		}
	}
	return false
}

func TestSplitBrainSuspects(t *testing.T) {
	in := healthy()
	if got := SplitBrainSuspects(in.Neo4j.Databases); len(got) != 0 {
		t.Errorf("healthy: got %v, want none", got)
	}
	dbRow(&in, "movies", "id-prod-1").Writer = true
	if got := SplitBrainSuspects(in.Neo4j.Databases); len(got) != 1 || got[0] != "movies" {
		t.Errorf("two writers: got %v, want [movies]", got)
	}
}

func TestCommunitySkipsClusterChecks(t *testing.T) {
	in := healthy()
	in.Expected.Edition = "community"
	in.Neo4j.Servers = nil
	in.StatusCheck = nil
	r := Compute(in)
	for _, c := range r.Checks {
		if (c.ID == IDServers || c.ID == IDStrays || c.ID == IDStatusCheck) && c.Status != Skip {
			t.Errorf("%s on Community: got %s, want SKIP", c.ID, c.Status)
		}
	}
}
