package neo4jsim

import (
	"sync"
	"testing"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"
)

// clock is a settable test clock for Config.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// statuses maps serverID → currentStatus of db's rows (deallocating rows
// included, keyed "<id> deallocating").
func statuses(t *testing.T, d neo4j.DriverWithContext, db string) map[string]any {
	t.Helper()
	out := map[string]any{}
	for _, r := range mustRun(t, d, "SHOW DATABASE $db YIELD serverID, currentStatus, requestedStatus, statusMessage, writer", map[string]any{"db": db}) {
		key := r["serverID"].(string)
		if r["currentStatus"] == "deallocating" {
			key += " deallocating"
		}
		out[key] = r["currentStatus"]
	}
	return out
}

func hostsOf(s *Simulator, db string) map[string]string { return s.Allocations(db) }

// ALTER SERVER that forbids a database the server hosts moves it, as Neo4j
// does; the old copy runs until the new one is online. When no other
// server can take it, the command fails and nothing changes.
func TestAlterServerMovesDatabases(t *testing.T) {
	clk := newClock()
	s := startSim(t, Config{Servers: 4, TransitionDelay: time.Minute, Now: clk.now})
	d := newDriver(t, s.URI("bolt"), testPassword)
	mustRun(t, d, "CREATE DATABASE foo TOPOLOGY 2 PRIMARIES WAIT", nil)
	var x string
	for id := range hostsOf(s, "foo") {
		x = id
		break
	}
	mustRun(t, d, "ALTER SERVER $id SET OPTIONS {deniedDatabases: ['foo']}", map[string]any{"id": x})
	allocs := hostsOf(s, "foo")
	if _, still := allocs[x]; still || len(allocs) != 2 {
		t.Fatalf("after ALTER SERVER denying foo: allocations %v, want 2 primaries, none on %s", allocs, x)
	}
	if st := statuses(t, d, "foo"); st[x+" deallocating"] != "deallocating" {
		t.Errorf("old copy while the new one copies: %v, want %s deallocating", st, x)
	}
	clk.advance(2 * time.Minute)
	if st := statuses(t, d, "foo"); st[x+" deallocating"] != nil || len(st) != 2 {
		t.Errorf("after the move: %v, want two online copies", st)
	}

	// Three servers can take foo's primaries, the fourth is denied it: a
	// third primary on x is impossible, so nothing changes.
	mustRun(t, d, "ALTER DATABASE foo SET TOPOLOGY 3 PRIMARIES", nil)
	var y string
	for id := range hostsOf(s, "foo") {
		y = id
		break
	}
	_, err := run(t, d, "ALTER SERVER $id SET OPTIONS {modeConstraint: 'SECONDARY'}", map[string]any{"id": y})
	if neo4jCode(err) != CodeArgumentError {
		t.Fatalf("ALTER SERVER that cannot be satisfied: got %v, want %s", err, CodeArgumentError)
	}
	if row := serverRow(t, d, y); row["modeConstraint"] != "NONE" {
		t.Errorf("refused ALTER SERVER changed the options: %v", row["modeConstraint"])
	}
	if allocs := hostsOf(s, "foo"); allocs[y] != rolePrimary {
		t.Errorf("refused ALTER SERVER moved foo: %v", allocs)
	}
}

// REALLOCATE (and its DRYRUN, and the bounded procedure) spreads
// allocations onto newly enabled servers; on a balanced cluster it moves
// nothing.
func TestReallocateBalances(t *testing.T) {
	clk := newClock()
	s := startSim(t, Config{Servers: 3, TransitionDelay: time.Minute, Now: clk.now})
	d := newDriver(t, s.URI("bolt"), testPassword)
	for _, db := range []string{"a", "b", "c"} {
		mustRun(t, d, "CREATE DATABASE "+db+" TOPOLOGY 3 PRIMARIES WAIT", nil)
	}
	for i := range 2 {
		srv, err := s.AddServer("new-" + string(rune('0'+i)) + ":7687")
		if err != nil {
			t.Fatal(err)
		}
		mustRun(t, d, "ENABLE SERVER $id", map[string]any{"id": srv.ID})
	}
	load := func() map[string]int {
		out := map[string]int{}
		for _, srv := range s.Servers() {
			out[srv.ID] = 0
		}
		for _, db := range []string{"neo4j", "a", "b", "c"} {
			for id := range hostsOf(s, db) {
				out[id]++
			}
		}
		return out
	}
	before := load()
	dry := mustRun(t, d, "DRYRUN REALLOCATE DATABASES", nil)
	if len(dry) == 0 {
		t.Fatalf("DRYRUN REALLOCATE on an unbalanced cluster: no moves")
	}
	if after := load(); !equalLoads(before, after) {
		t.Errorf("DRYRUN changed allocations: %v → %v", before, after)
	}
	one := mustRun(t, d, "CALL dbms.cluster.reallocateNumberOfDatabases(1)", nil)
	movedDBs := map[any]bool{}
	for _, r := range one {
		movedDBs[r["database"]] = true
	}
	if len(one) == 0 || len(movedDBs) != 1 {
		t.Errorf("reallocateNumberOfDatabases(1): %d moves of %d databases, want the moves of 1 database", len(one), len(movedDBs))
	}
	mustRun(t, d, "REALLOCATE DATABASES", nil)
	l := load()
	lo, hi := 1<<30, 0
	for _, n := range l {
		lo, hi = min(lo, n), max(hi, n)
	}
	if hi-lo > 1 {
		t.Errorf("after REALLOCATE: loads %v, want a spread of at most 1", l)
	}
	// The old copies run until the new ones are online.
	moved := one[0]
	if st := statuses(t, d, moved["database"].(string)); st[moved["fromServerId"].(string)+" deallocating"] != "deallocating" {
		t.Errorf("moved copy on its old server: %v, want deallocating until the copy is done", st)
	}
	clk.advance(2 * time.Minute)
	if rows := mustRun(t, d, "DRYRUN REALLOCATE DATABASES", nil); len(rows) != 0 {
		t.Errorf("balanced cluster: DRYRUN REALLOCATE still moves %v", rows)
	}
}

func equalLoads(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// DEALLOCATE is refused while a quorum of a database's primary hosts is
// cordoned.
func TestDeallocateRefusedWhileQuorumOfPrimariesCordoned(t *testing.T) {
	s := startSim(t, Config{Servers: 5, TransitionDelay: -1})
	d := newDriver(t, s.URI("bolt"), testPassword)
	mustRun(t, d, "CREATE DATABASE q TOPOLOGY 3 PRIMARIES WAIT", nil)
	var hosts []string
	for id := range hostsOf(s, "q") {
		hosts = append(hosts, id)
	}
	mustRun(t, d, "CALL dbms.cluster.cordonServer($id)", map[string]any{"id": hosts[0]})
	mustRun(t, d, "CALL dbms.cluster.cordonServer($id)", map[string]any{"id": hosts[1]})
	_, err := run(t, d, "DEALLOCATE DATABASES FROM SERVER $id", map[string]any{"id": hosts[0]})
	if neo4jCode(err) != CodeArgumentError {
		t.Fatalf("DEALLOCATE with 2 of 3 primary hosts cordoned: got %v, want %s", err, CodeArgumentError)
	}
	if row := serverRow(t, d, hosts[0]); row["state"] != StateCordoned {
		t.Errorf("refused DEALLOCATE changed the server: %v", row["state"])
	}
	mustRun(t, d, "ENABLE SERVER $id", map[string]any{"id": hosts[1]})
	mustRun(t, d, "DEALLOCATE DATABASES FROM SERVER $id", map[string]any{"id": hosts[0]})
}

// dbms.quarantineDatabase quarantines the copy on the server it runs on
// only; START DATABASE does not change it; DEALLOCATE refuses it as
// offline; lifting it brings the copy back. STOP / START go through
// stopping / starting for the transition time.
func TestQuarantineAndStopStart(t *testing.T) {
	clk := newClock()
	s := startSim(t, Config{Servers: 3, TransitionDelay: -1, Now: clk.now})
	d := newDriver(t, s.URI("bolt"), testPassword)
	mustRun(t, d, "CREATE DATABASE q TOPOLOGY 3 PRIMARIES WAIT", nil)
	a := s.Servers()[1]
	da := newDriver(t, "bolt://"+a.Listen, testPassword)
	rows := mustRun(t, da, "CALL dbms.quarantineDatabase('q', true, 'disk errors')", nil)
	if len(rows) != 1 || rows[0]["quarantined"] != true {
		t.Fatalf("quarantineDatabase: %v", rows)
	}
	st := statuses(t, d, "q")
	for id, status := range st {
		want := "online"
		if id == a.ID {
			want = "quarantined"
		}
		if status != want {
			t.Errorf("copy on %s: %v, want %s", id, status, want)
		}
	}
	mustRun(t, d, "START DATABASE q", nil)
	if got := statuses(t, d, "q")[a.ID]; got != "quarantined" {
		t.Errorf("START DATABASE lifted the quarantine: %v", got)
	}
	if _, err := run(t, d, "DEALLOCATE DATABASES FROM SERVER $id", map[string]any{"id": a.ID}); neo4jCode(err) != CodeArgumentError {
		t.Errorf("DEALLOCATE of a server with a quarantined copy: got %v, want refused", err)
	}
	mustRun(t, da, "CALL dbms.quarantineDatabase('q', false)", nil)
	if got := statuses(t, d, "q")[a.ID]; got != "online" {
		t.Errorf("after lifting the quarantine: %v, want online", got)
	}

	s.SetTransitionDelay(time.Minute)
	mustRun(t, d, "STOP DATABASE q", nil)
	for _, r := range mustRun(t, d, "SHOW DATABASE q YIELD currentStatus, requestedStatus, writer", nil) {
		if r["currentStatus"] != "stopping" || r["requestedStatus"] != "offline" || r["writer"] != false {
			t.Errorf("right after STOP: %v, want stopping / offline / no writer", r)
		}
	}
	clk.advance(2 * time.Minute)
	for id, status := range statuses(t, d, "q") {
		if status != "offline" {
			t.Errorf("stopped copy on %s: %v, want offline", id, status)
		}
	}
	mustRun(t, d, "START DATABASE q", nil)
	for id, status := range statuses(t, d, "q") {
		if status != "starting" {
			t.Errorf("right after START, copy on %s: %v, want starting", id, status)
		}
	}
	clk.advance(2 * time.Minute)
	writersNow := 0
	for _, r := range mustRun(t, d, "SHOW DATABASE q YIELD currentStatus, writer", nil) {
		if r["currentStatus"] != "online" {
			t.Errorf("after START: %v", r)
		}
		if r["writer"] == true {
			writersNow++
		}
	}
	if writersNow != 1 {
		t.Errorf("after START: %d writers, want 1", writersNow)
	}
}

// An Unavailable server that is not cordoned may still be allocated a
// database (it catches up when it returns); a cordoned one may not.
func TestUnavailableServerMayBeAllocated(t *testing.T) {
	s := startSim(t, Config{Servers: 3, TransitionDelay: -1})
	srvs := s.Servers()
	d := newDriver(t, "bolt://"+srvs[0].Listen, testPassword)
	if err := s.SetAvailable(srvs[2].ID, false); err != nil {
		t.Fatal(err)
	}
	mustRun(t, d, "CREATE DATABASE x TOPOLOGY 3 PRIMARIES", nil)
	if st := statuses(t, d, "x"); st[srvs[2].ID] != "unknown" || len(st) != 3 {
		t.Errorf("x with one server down: %v, want three copies, unknown on the unavailable one", st)
	}
	mustRun(t, d, "CALL dbms.cluster.cordonServer($id)", map[string]any{"id": srvs[2].ID})
	if _, err := run(t, d, "CREATE DATABASE y TOPOLOGY 3 PRIMARIES", nil); neo4jCode(err) != CodeArgumentError {
		t.Errorf("CREATE needing the cordoned server: got %v, want refused", err)
	}
	if err := s.SetAvailable(srvs[2].ID, true); err != nil {
		t.Fatal(err)
	}
	if st := statuses(t, d, "x"); st[srvs[2].ID] != "online" {
		t.Errorf("after the server returns: %v", st)
	}
}
