package neo4jsim

import (
	"testing"
)

// writers returns the servers SHOW DATABASE reports as writer of db, and
// its rows by serverID.
func writers(t *testing.T, rows []map[string]any) (w []string, byServer map[string]map[string]any) {
	t.Helper()
	byServer = map[string]map[string]any{}
	for _, r := range rows {
		id, _ := r["serverID"].(string)
		byServer[id] = r
		if r["writer"] == true {
			w = append(w, id)
		}
	}
	return w, byServer
}

// A database has a leader, and a writer, only while a majority of its
// primaries is available (Raft); the same holds for system, whose loss of
// quorum stops every administration command.
func TestLeaderNeedsAMajorityOfPrimaries(t *testing.T) {
	s := startSim(t, Config{Servers: 3, TransitionDelay: -1})
	srvs := s.Servers()
	d := newDriver(t, "bolt://"+srvs[0].Listen, testPassword)
	mustRun(t, d, "CREATE DATABASE q TOPOLOGY 3 PRIMARIES WAIT", nil)

	if w, _ := writers(t, mustRun(t, d, "SHOW DATABASE q YIELD *", nil)); len(w) != 1 {
		t.Fatalf("with all primaries up: writers %v, want exactly one", w)
	}
	// One of three down: still a majority.
	if err := s.SetAvailable(srvs[2].ID, false); err != nil {
		t.Fatal(err)
	}
	w, rows := writers(t, mustRun(t, d, "SHOW DATABASE q YIELD *", nil))
	if len(w) != 1 || w[0] == srvs[2].ID {
		t.Errorf("two of three up: writers %v, want one available primary", w)
	}
	if r := rows[srvs[2].ID]; r["currentStatus"] != "unknown" || r["statusMessage"] != "Server is unavailable" || r["address"] != nil {
		t.Errorf("allocation on the unavailable server: %v, want unknown / Server is unavailable / null address", r)
	}
	// Two of three down: no quorum, no leader, no writer, and system
	// refuses writes.
	if err := s.SetAvailable(srvs[1].ID, false); err != nil {
		t.Fatal(err)
	}
	if w, _ := writers(t, mustRun(t, d, "SHOW DATABASE q YIELD *", nil)); len(w) != 0 {
		t.Errorf("one of three up: writers %v, want none", w)
	}
	for _, r := range mustRun(t, d, "CALL dbms.cluster.statusCheck(['q', 'system'])", nil) {
		if r["recognisedLeader"] != nil {
			t.Errorf("statusCheck without quorum: %v recognises leader %v", r["database"], r["recognisedLeader"])
		}
	}
	if _, err := run(t, d, "CREATE DATABASE other", nil); neo4jCode(err) != CodeNotALeader {
		t.Errorf("admin write without a system quorum: got %v, want %s", err, CodeNotALeader)
	}
	// One returns: quorum again.
	if err := s.SetAvailable(srvs[1].ID, true); err != nil {
		t.Fatal(err)
	}
	if w, _ := writers(t, mustRun(t, d, "SHOW DATABASE q YIELD *", nil)); len(w) != 1 {
		t.Errorf("quorum restored: writers %v, want one", w)
	}
	mustRun(t, d, "CREATE DATABASE other", nil)
}

// A dropped server is listed as the manual shows it while its process
// runs, and disappears when it stops.
func TestDroppedServerRow(t *testing.T) {
	s := startSim(t, Config{Servers: 4, TransitionDelay: -1})
	d := newDriver(t, s.URI("bolt"), testPassword)
	last := s.Servers()[3]
	mustRun(t, d, "DEALLOCATE DATABASES FROM SERVER $id", map[string]any{"id": last.ID})
	mustRun(t, d, "DROP SERVER $id", map[string]any{"id": last.ID})
	row := serverRow(t, d, last.ID)
	if row["state"] != StateDropped || row["health"] != HealthAvailable || len(row["hosting"].([]any)) != 1 || row["hosting"].([]any)[0] != "system" {
		t.Errorf("dropped row: %v, want Dropped, Available, hosting [system]", row)
	}
	if err := s.SetAvailable(last.ID, false); err != nil {
		t.Fatal(err)
	}
	for _, r := range mustRun(t, d, "SHOW SERVERS YIELD serverId", nil) {
		if r["serverId"] == last.ID {
			t.Errorf("dropped server still listed after its process stopped")
		}
	}
}

// The disaster-recovery path for a lost server: cordon, deallocate (its
// databases move while a majority of their primaries is elsewhere), and
// drop it while it is still Deallocating, since it is not there to finish.
func TestLostServerRemoval(t *testing.T) {
	s := startSim(t, Config{Servers: 5, TransitionDelay: -1})
	d := newDriver(t, "bolt://"+s.Servers()[0].Listen, testPassword)
	mustRun(t, d, "CREATE DATABASE q TOPOLOGY 3 PRIMARIES WAIT", nil)
	var lost string
	for id := range s.Allocations("q") {
		if id != s.Servers()[0].ID {
			lost = id
			break
		}
	}
	if err := s.SetAvailable(lost, false); err != nil {
		t.Fatal(err)
	}
	mustRun(t, d, "CALL dbms.cluster.cordonServer($id)", map[string]any{"id": lost})
	mustRun(t, d, "DEALLOCATE DATABASES FROM SERVER $id", map[string]any{"id": lost})
	if allocs := s.Allocations("q"); len(allocs) != 3 || allocs[lost] != "" {
		t.Errorf("q after deallocating the lost server: %v, want 3 primaries elsewhere", allocs)
	}
	if row := serverRow(t, d, lost); row["state"] != StateDeallocating {
		t.Errorf("lost server after DEALLOCATE: %v, want Deallocating (it cannot finish)", row["state"])
	}
	mustRun(t, d, "DROP SERVER $id", map[string]any{"id": lost})
	for _, r := range mustRun(t, d, "SHOW SERVERS YIELD serverId", nil) {
		if r["serverId"] == lost {
			t.Errorf("dropped lost server still listed")
		}
	}
	// An available Deallocating server must finish first.
	other := s.Servers()[4].ID
	if other == lost {
		other = s.Servers()[3].ID
	}
	if err := s.SetStuckDeallocating(other, true); err != nil {
		t.Fatal(err)
	}
	mustRun(t, d, "DEALLOCATE DATABASES FROM SERVER $id", map[string]any{"id": other})
	if _, err := run(t, d, "DROP SERVER $id", map[string]any{"id": other}); neo4jCode(err) != CodeArgumentError {
		t.Errorf("DROP of an available Deallocating server: got %v, want refused", err)
	}
}

// TestStatusCheckAsManual: dbms.cluster.statusCheck answers as the
// Operations Manual's clustering/monitoring/status-check.adoc documents
// (§ Return arguments, § Possible values of memberStatus, § Possible values
// of requester, § Example): memberStatus is APPLYING, REPLICATING or
// UNAVAILABLE — never a Raft role —, one row per primary member marks the
// server the procedure ran on as the requester, replicationSuccessful is
// the same in every row of a database, and an empty list leaves out
// single-primary databases.
func TestStatusCheckAsManual(t *testing.T) {
	s := startSim(t, Config{Servers: 3})
	d := newDriver(t, s.URI("bolt"), testPassword)
	mustRun(t, d, "CREATE DATABASE q TOPOLOGY 3 PRIMARIES WAIT", nil)
	mustRun(t, d, "CREATE DATABASE single TOPOLOGY 1 PRIMARY WAIT", nil)
	requester := s.Servers()[0].ID // URI("bolt") is the first available server
	byDB := func(rows []map[string]any) map[any][]map[string]any {
		m := map[any][]map[string]any{}
		for _, r := range rows {
			m[r["database"]] = append(m[r["database"]], r)
		}
		return m
	}
	got := byDB(mustRun(t, d, "CALL dbms.cluster.statusCheck([], 1000)", nil))
	if _, ok := got["single"]; ok {
		t.Errorf("empty list: answered for the single-primary database: %v", got["single"])
	}
	for _, db := range []string{"system", "q"} {
		rows := got[db]
		if len(rows) != 3 {
			t.Fatalf("%s: %d rows, want one per primary member (3): %v", db, len(rows), rows)
		}
		req := 0
		for _, r := range rows {
			if r["memberStatus"] != "APPLYING" || r["replicationSuccessful"] != true || r["error"] != nil {
				t.Errorf("%s healthy: %v, want APPLYING, replicationSuccessful true, no error", db, r)
			}
			if r["requester"] == true {
				req++
				if r["serverId"] != requester {
					t.Errorf("%s: requester is %v, want the server the procedure ran on, %s", db, r["serverId"], requester)
				}
			}
		}
		if req != 1 {
			t.Errorf("%s: %d requester rows, want 1", db, req)
		}
	}
	down := s.Servers()[2].ID
	if err := s.SetAvailable(down, false); err != nil {
		t.Fatal(err)
	}
	for _, r := range byDB(mustRun(t, d, "CALL dbms.cluster.statusCheck(['q'], 1000)", nil))["q"] {
		want := "APPLYING"
		if r["serverId"] == down {
			want = "UNAVAILABLE"
		}
		if r["memberStatus"] != want || r["replicationSuccessful"] != true {
			t.Errorf("one of three down: %v, want memberStatus %s and replicationSuccessful true (a majority replicates)", r, want)
		}
	}
}

// TestReplicationLag: SHOW DATABASES reports how many transactions a copy
// is behind the writer as a negative replicationLag (Operations Manual,
// database-administration/standard-databases/listing-databases.adoc § SHOW
// DATABASES output), 0 elsewhere, and the fault that makes one lag can be
// lifted; the writer is never behind.
func TestReplicationLag(t *testing.T) {
	s := startSim(t, Config{Servers: 3})
	d := newDriver(t, s.URI("bolt"), testPassword)
	mustRun(t, d, "CREATE DATABASE q TOPOLOGY 3 PRIMARIES WAIT", nil)
	rows := func() map[any]map[string]any {
		m := map[any]map[string]any{}
		for _, r := range mustRun(t, d, "SHOW DATABASE q YIELD *", nil) {
			m[r["serverID"]] = r
		}
		return m
	}
	var writer, follower any
	for id, r := range rows() {
		if r["replicationLag"] != int64(0) {
			t.Errorf("healthy: %v replicationLag %v, want 0", id, r["replicationLag"])
		}
		if r["writer"] == true {
			writer = id
		} else {
			follower = id
		}
	}
	if err := s.SetReplicationLag("q", follower.(string), 42); err != nil {
		t.Fatal(err)
	}
	if err := s.SetReplicationLag("q", writer.(string), 5); err != nil {
		t.Fatal(err)
	}
	got := rows()
	if got[follower]["replicationLag"] != int64(-42) || got[writer]["replicationLag"] != int64(0) {
		t.Errorf("lagging follower %v, writer %v: want -42 and 0", got[follower]["replicationLag"], got[writer]["replicationLag"])
	}
	if lw, lf := got[writer]["lastCommittedTxn"].(int64), got[follower]["lastCommittedTxn"].(int64); lw-lf != 42 {
		t.Errorf("lastCommittedTxn writer %d, follower %d: want 42 apart", lw, lf)
	}
	if err := s.SetReplicationLag("q", follower.(string), 0); err != nil {
		t.Fatal(err)
	}
	if got := rows()[follower]["replicationLag"]; got != int64(0) {
		t.Errorf("caught up: replicationLag %v, want 0", got)
	}
}
