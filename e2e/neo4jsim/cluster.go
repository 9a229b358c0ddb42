package neo4jsim

import (
	"crypto/rand"
	"fmt"
	"net"
	"slices"
	"sort"
	"strings"
	"time"
)

// fact: server.lifecycle (the states); fact: server.health (the values).
// Server lifecycle states and health values, as SHOW SERVERS reports them.
const (
	StateFree         = "Free"
	StateEnabled      = "Enabled"
	StateCordoned     = "Cordoned"
	StateDeallocating = "Deallocating"
	StateDeallocated  = "Deallocated"
	StateDropped      = "Dropped"

	HealthAvailable   = "Available"
	HealthUnavailable = "Unavailable"
)

const (
	rolePrimary   = "primary"
	roleSecondary = "secondary"
)

// simServer is one member of the simulated cluster. Fields are guarded by
// Simulator.mu.
type simServer struct {
	id         string
	name       string
	advertised string
	listen     string // loopback host:port of its Bolt listener
	identity   string // what survives a restart (PVC uid / pod name); "" if none
	podKey     string // namespace/name of the Pod backing it, when following Kubernetes
	state      string
	available  bool
	tags       []string
	allowed    []string
	denied     []string
	mode       string // NONE, PRIMARY, SECONDARY
	version    string // of the binary it runs, set at (re)start
	sysPrimary bool   // hosts system as a primary: its system_database_mode at (re)start

	// conf is the configuration the server started with (its Pod's
	// neo4j.conf and environment); runtime holds dbms.setConfigValue
	// changes since, lost at restart. See config.go.
	conf    map[string]string
	runtime map[string]string
	podUID  string // the Pod it last started in, when following Kubernetes
	// discovery is the discovery mode the move procedure set since the
	// server started, "" for its configuration's (discovery.go).
	discovery string

	deallocDone time.Time // when Deallocating becomes Deallocated
	stuck       bool      // fault: never leaves Deallocating
	// podReady is the last readiness the follower saw of the server's Pod;
	// downAfterRestart (a fault) keeps the server Unavailable once its Pod
	// has gone away, however Ready the new Pod is.
	podReady         bool
	downAfterRestart bool
	// down (a fault) keeps the server Unavailable whatever its Pod says:
	// its process hangs or is cut off from the other members.
	down bool

	ln    net.Listener
	conns map[*conn]struct{}
}

type allocation struct {
	server  string // serverId
	role    string
	readyAt time.Time // "starting" until then (store copy in flight)
}

// simDatabase is a user database with its allocations.
type simDatabase struct {
	name        string
	id          string
	primaries   int
	secondaries int
	readOnly    bool
	stopped     bool      // requestedStatus offline
	changeAt    time.Time // when the last START / STOP finishes
	stoppedAt   time.Time
	// quarantined maps a serverId to the reason its copy was quarantined
	// with dbms.quarantineDatabase on that server.
	quarantined map[string]string
	statusMsg   string // non-empty: offline with an error (fault)
	options     map[string]any
	allocs      []allocation
	leaving     []allocation // still hosted by Deallocating servers
	leader      string
	term        int64
	created     time.Time
	started     time.Time
	txn         int64
}

// newUUID returns a random RFC 4122 version-4 UUID, the form Neo4j uses for
// server and database ids.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// fact: database.transition-time: deallocation and store copies finish
// when their time has come.
// advance applies the asynchronous parts of the lifecycle whose time has
// come. The model is evaluated lazily on every access, so there are no
// background goroutines and tests stay deterministic.
func (s *Simulator) advance() {
	now := s.now()
	for _, srv := range s.servers {
		// fact: server.lost-removal: a server that is not there to stop
		// its copies cannot finish deallocating.
		if srv.state == StateDeallocating && srv.available && !srv.stuck && !now.Before(srv.deallocDone) {
			srv.state = StateDeallocated
			for _, db := range s.dbs {
				db.leaving = slices.DeleteFunc(db.leaving, func(a allocation) bool { return a.server == srv.id })
			}
		}
	}
	// fact: server.alter-moves, fact: database.reallocate: a moved
	// allocation keeps running on its old server until the new copy is
	// online; a Deallocating server keeps its copies until it is done.
	for _, db := range s.dbs {
		db.leaving = slices.DeleteFunc(db.leaving, func(a allocation) bool {
			srv := s.serverByID(a.server)
			return srv == nil || (srv.state != StateDeallocating && !now.Before(a.readyAt))
		})
	}
	s.ensureDefaultDB()
	for _, db := range s.dbs {
		s.electLeader(db)
	}
	s.electSystemLeader()
}

// fact: database.raft-leader: a database has a leader only while a simple
// majority of its primaries is available; the leader keeps its role while
// it stays available, otherwise the first available primary wins a new
// term.
func (s *Simulator) electLeader(db *simDatabase) {
	var members []*simServer
	for _, a := range db.allocs {
		if a.role == rolePrimary {
			if srv := s.serverByID(a.server); srv != nil {
				members = append(members, srv)
			}
		}
	}
	// A copy that is stopped, failed or quarantined takes no part.
	up := func(srv *simServer) bool {
		_, q := db.quarantined[srv.id]
		return srv.available && !q && !db.stopped && db.statusMsg == ""
	}
	db.leader = s.elect(members, db.leader, &db.term, up)
}

func (s *Simulator) electSystemLeader() {
	s.sysLeader = s.elect(s.systemPrimaries(), s.sysLeader, &s.sysTerm, func(srv *simServer) bool { return srv.available })
}

// systemPrimaries are the members of the system database's Raft group:
// the servers configured as system primaries that have not been dropped.
func (s *Simulator) systemPrimaries() []*simServer {
	var out []*simServer
	for _, srv := range s.servers {
		if srv.sysPrimary && srv.state != StateDropped {
			out = append(out, srv)
		}
	}
	return out
}

// elect returns the leader of a Raft group: the current one if it is still
// available and the group has a quorum, else the first available member in
// a new term, or "" when fewer than a majority are available.
func (s *Simulator) elect(members []*simServer, current string, term *int64, isUp func(*simServer) bool) string {
	up := 0
	for _, m := range members {
		if isUp(m) {
			up++
		}
	}
	if up == 0 || up*2 <= len(members) {
		return ""
	}
	for _, m := range members {
		if m.id == current && isUp(m) {
			return current
		}
	}
	for _, m := range members {
		if isUp(m) {
			*term++
			return m.id
		}
	}
	return ""
}

func (s *Simulator) serverByID(id string) *simServer {
	for _, srv := range s.servers {
		if srv.id == id {
			return srv
		}
	}
	return nil
}

// findServer resolves a server reference the way Neo4j does: by name or by id.
func (s *Simulator) findServer(ref string) *simServer {
	for _, srv := range s.servers {
		if srv.state != StateDropped && (srv.name == ref || srv.id == ref) {
			return srv
		}
	}
	return nil
}

func (s *Simulator) sortedDBs() []*simDatabase {
	out := make([]*simDatabase, 0, len(s.dbs))
	for _, db := range s.dbs {
		out = append(out, db)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// load counts the user-database allocations a server carries; the
// allocator spreads databases to the least-loaded servers first.
func (s *Simulator) load(id string) int {
	n := 0
	for _, db := range s.dbs {
		for _, a := range db.allocs {
			if a.server == id {
				n++
			}
		}
	}
	return n
}

func (srv *simServer) allowsDatabase(db string) bool {
	if len(srv.allowed) > 0 {
		return slices.Contains(srv.allowed, db)
	}
	return !slices.Contains(srv.denied, db)
}

func (srv *simServer) allowsRole(role string) bool {
	switch srv.mode {
	case "PRIMARY":
		return role == rolePrimary
	case "SECONDARY":
		return role == roleSecondary
	}
	return true
}

// fact: server.lifecycle, fact: server.cordon,
// fact: server.unavailable-allocatable
// placeable reports whether new allocations may go to srv: only Enabled
// servers take databases (Cordoned and Deallocating do not) — an
// Unavailable one too, unless cordoned; the allocator prefers available
// servers (see place).
func (srv *simServer) placeable() bool {
	return srv.state == StateEnabled
}

// fact: database.allocation
// place computes allocations for db with p primaries and sec secondaries,
// keeping the existing ones that remain valid and avoiding the excluded
// servers. It returns an error message when the cluster cannot satisfy it.
func (s *Simulator) place(dbName string, existing []allocation, p, sec int, exclude map[string]bool, readyAt time.Time) ([]allocation, string) {
	var kept []allocation
	used := map[string]bool{}
	count := map[string]int{}
	for _, a := range existing {
		srv := s.serverByID(a.server)
		if srv == nil || exclude[a.server] || srv.state == StateDropped || srv.state == StateDeallocated {
			continue
		}
		want := p
		if a.role == roleSecondary {
			want = sec
		}
		if count[a.role] >= want || !srv.allowsRole(a.role) || !srv.allowsDatabase(dbName) {
			continue
		}
		count[a.role]++
		used[a.server] = true
		kept = append(kept, a)
	}
	candidates := func(role string) []*simServer {
		var c []*simServer
		for _, srv := range s.servers {
			if !used[srv.id] && !exclude[srv.id] && srv.placeable() && srv.allowsRole(role) && srv.allowsDatabase(dbName) {
				c = append(c, srv)
			}
		}
		sort.SliceStable(c, func(i, j int) bool { return s.load(c[i].id) < s.load(c[j].id) })
		sort.SliceStable(c, func(i, j int) bool { return c[i].available && !c[j].available })
		// A server that can only be a primary (or only a secondary) should be
		// used for that role first so the other role still fits.
		sort.SliceStable(c, func(i, j int) bool { return c[i].mode != "NONE" && c[j].mode == "NONE" })
		return c
	}
	fill := func(role string, want int) bool {
		for count[role] < want {
			c := candidates(role)
			if len(c) == 0 {
				return false
			}
			used[c[0].id] = true
			count[role]++
			kept = append(kept, allocation{server: c[0].id, role: role, readyAt: readyAt})
		}
		return true
	}
	okP := fill(rolePrimary, p)
	okS := fill(roleSecondary, sec)
	if !okP || !okS {
		return nil, fmt.Sprintf("Desired number of allocations is '%d', but only '%d' possible servers found - some servers may be constrained.",
			p+sec, count[rolePrimary]+count[roleSecondary])
	}
	return kept, ""
}

// serverState returns the health string of srv.
func (srv *simServer) health() string {
	if srv.available {
		return HealthAvailable
	}
	return HealthUnavailable
}

// fact: server.free-hosts-system (system is always hosted; requested
// user databases only once allocated)
// hosting lists the databases srv runs now and the ones it should run.
func (s *Simulator) hosting(srv *simServer) (hosting, requested []string) {
	hosting = []string{"system"}
	requested = []string{"system"}
	now := s.now()
	for _, db := range s.sortedDBs() {
		for _, a := range db.allocs {
			if a.server == srv.id {
				requested = append(requested, db.name)
				if _, q := db.quarantined[srv.id]; !q && !now.Before(a.readyAt) && !db.stopped && db.statusMsg == "" {
					hosting = append(hosting, db.name)
				}
			}
		}
		for _, a := range db.leaving {
			if a.server == srv.id && !db.stopped {
				hosting = append(hosting, db.name)
			}
		}
	}
	if !srv.available {
		hosting = []string{}
	}
	return hosting, requested
}

func strList(l []string) []any {
	out := make([]any, len(l))
	for i, v := range l {
		out[i] = v
	}
	return out
}

func httpAddr(advertised string) any {
	host, _, err := net.SplitHostPort(advertised)
	if err != nil {
		return nil
	}
	return net.JoinHostPort(host, "7474")
}

// serverRows builds SHOW SERVERS rows in Neo4j's column order.
var serverColumns = []string{"name", "serverId", "address", "httpAddress", "httpsAddress", "state", "health",
	"hosting", "requestedHosting", "tags", "allowedDatabases", "deniedDatabases", "modeConstraint", "version"}
var serverDefaultColumns = []string{"name", "address", "state", "health", "hosting"}

// fact: server.dropped-row
func (s *Simulator) serverRows() []map[string]any {
	var rows []map[string]any
	for _, srv := range s.servers {
		if srv.state == StateDropped && !srv.available {
			// A dropped server is listed until its process stops.
			continue
		}
		h, rh := s.hosting(srv)
		if srv.state == StateDropped {
			// The manual's example shows a Dropped server hosting system
			// while its process runs; it is requested to host nothing.
			h, rh = []string{"system"}, []string{}
		}
		var addr any = srv.advertised
		var http any = httpAddr(srv.advertised)
		rows = append(rows, map[string]any{
			"serverId":         srv.id,
			"name":             srv.name,
			"address":          addr,
			"httpAddress":      http,
			"httpsAddress":     nil,
			"state":            srv.state,
			"health":           srv.health(),
			"hosting":          strList(h),
			"requestedHosting": strList(rh),
			"tags":             strList(nonNil(srv.tags)),
			"allowedDatabases": strList(nonNil(srv.allowed)),
			"deniedDatabases":  strList(nonNil(srv.denied)),
			"modeConstraint":   srv.mode,
			"version":          srv.version,
		})
	}
	return rows
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

var databaseColumns = []string{"name", "type", "aliases", "access", "databaseID", "serverID", "address", "role",
	"writer", "requestedStatus", "currentStatus", "statusMessage", "default", "home", "currentPrimariesCount",
	"currentSecondariesCount", "requestedPrimariesCount", "requestedSecondariesCount", "creationTime",
	"lastStartTime", "lastStopTime", "store", "lastCommittedTxn", "replicationLag", "constituents", "options"}
var databaseDefaultColumns = []string{"name", "type", "aliases", "access", "address", "role", "writer",
	"requestedStatus", "currentStatus", "statusMessage", "default", "home", "constituents"}

// dateTime encodes t as a Bolt 5 UTC DateTime structure (tag 'I'), the type
// SHOW DATABASES uses for its time columns.
func dateTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return &Structure{Tag: 'I', Fields: []any{t.Unix(), int64(t.Nanosecond()), int64(0)}}
}

type dbRow struct {
	db     *simDatabase // nil for system
	srv    *simServer
	role   string
	status string // currentStatus
	req    string // requestedStatus
	msg    string
	writer bool
}

// fact: database.status
func (s *Simulator) databaseRows(self *simServer) []map[string]any {
	now := s.now()
	var rows []map[string]any
	emit := func(name, typ, dbID string, r dbRow, counts [4]int64, created, started time.Time, txn int64, options map[string]any, access string) {
		var addr any
		var serverID any
		if r.srv != nil {
			addr = r.srv.advertised
			serverID = r.srv.id
			if !r.srv.available && !s.community {
				// The manual: address NULL, currentStatus unknown,
				// statusMessage "Server is unavailable".
				addr = nil
			}
		}
		if options == nil {
			options = map[string]any{}
		}
		// Community has no topology to request and, as recorded from real
		// 5.26, reports these as null; Enterprise reports integers.
		var reqPrimaries, reqSecondaries, lastTxn any = counts[2], counts[3], txn
		// fact: database.replication-lag: how many transactions this copy
		// is behind the writer, as a negative integer (0 on the writer
		// and in a standalone), NULL unless online or deallocating.
		var lag any
		if r.status == "online" || r.status == "deallocating" {
			n := int64(0)
			if r.srv != nil && !s.community && !r.writer {
				n = s.lag[name][r.srv.id]
			}
			lag, lastTxn = -n, txn-n
		}
		if s.community {
			reqPrimaries, reqSecondaries, lastTxn = nil, nil, nil
		}
		rows = append(rows, map[string]any{
			"name":                      name,
			"type":                      typ,
			"aliases":                   []any{},
			"access":                    access,
			"databaseID":                dbID,
			"serverID":                  serverID,
			"address":                   addr,
			"role":                      r.role,
			"writer":                    r.writer,
			"requestedStatus":           r.req,
			"currentStatus":             r.status,
			"statusMessage":             r.msg,
			"default":                   name == s.defaultDB,
			"home":                      name == s.defaultDB,
			"currentPrimariesCount":     counts[0],
			"currentSecondariesCount":   counts[1],
			"requestedPrimariesCount":   reqPrimaries,
			"requestedSecondariesCount": reqSecondaries,
			"creationTime":              dateTime(created),
			"lastStartTime":             dateTime(started),
			"lastStopTime":              nil,
			"store":                     "block-block-1.1",
			"lastCommittedTxn":          lastTxn,
			"replicationLag":            lag,
			"constituents":              []any{},
			"options":                   options,
		})
	}

	// system: hosted by every member; primaries are the bootstrap members.
	var sysRows []dbRow
	var sysCounts [4]int64
	for _, srv := range s.servers {
		if srv.state == StateDropped {
			continue
		}
		r := dbRow{srv: srv, role: roleSecondary, status: "online", req: "online", writer: srv.id == s.sysLeader}
		if srv.sysPrimary {
			r.role = rolePrimary
			sysCounts[2]++
		} else {
			sysCounts[3]++
		}
		if !srv.available {
			r.status, r.msg = "unknown", "Server is unavailable"
		} else if r.role == rolePrimary {
			sysCounts[0]++
		} else {
			sysCounts[1]++
		}
		sysRows = append(sysRows, r)
	}
	if s.community {
		sysRows = []dbRow{{srv: self, role: rolePrimary, status: "online", req: "online", writer: true}}
		sysCounts = [4]int64{1, 0, 1, 0}
	}
	for _, r := range sysRows {
		emit("system", "system", s.systemID, r, sysCounts, s.started, s.started, s.sysTxn, nil, "read-write")
	}

	for _, db := range s.sortedDBs() {
		var dbRows []dbRow
		var counts [4]int64
		counts[2], counts[3] = int64(db.primaries), int64(db.secondaries)
		for _, a := range db.allocs {
			srv := s.serverByID(a.server)
			if srv == nil {
				continue
			}
			r := dbRow{srv: srv, role: a.role, status: "online", req: "online", writer: a.server == db.leader}
			if db.stopped {
				r.req = "offline"
			}
			reason, quarantined := db.quarantined[srv.id]
			// fact: database.start-stop, fact: database.quarantine
			switch {
			case quarantined:
				r.status, r.msg, r.writer = "quarantined", reason, false
			case db.stopped && now.Before(db.changeAt):
				r.status, r.writer = "stopping", false
			case db.stopped:
				r.status, r.writer = "offline", false
			case db.statusMsg != "":
				r.status, r.msg, r.writer = "offline", db.statusMsg, false
			case !srv.available:
				r.status, r.msg, r.writer = "unknown", "Server is unavailable", false
			case now.Before(a.readyAt):
				r.status = "store copying"
			case now.Before(db.changeAt):
				r.status, r.writer = "starting", false
			}
			if r.status == "online" {
				if a.role == rolePrimary {
					counts[0]++
				} else {
					counts[1]++
				}
			}
			dbRows = append(dbRows, r)
		}
		for _, a := range db.leaving {
			if srv := s.serverByID(a.server); srv != nil {
				dbRows = append(dbRows, dbRow{srv: srv, role: a.role, status: "deallocating", req: "online"})
			}
		}
		if s.community {
			dbRows = []dbRow{{srv: self, role: rolePrimary, status: "online", req: "online", writer: true}}
			if db.stopped {
				dbRows[0].status, dbRows[0].req, dbRows[0].writer = "offline", "offline", false
			}
			counts = [4]int64{1, 0, 1, 0}
		}
		if len(dbRows) == 0 {
			dbRows = []dbRow{{role: "unknown", status: "unknown", req: "online"}}
		}
		access := "read-write"
		if db.readOnly {
			access = "read-only"
		}
		for _, r := range dbRows {
			emit(db.name, "standard", db.id, r, counts, db.created, db.started, db.txn, db.options, access)
		}
	}
	return rows
}

// fact: status-check
// statusCheckRows answers dbms.cluster.statusCheck run on server req for
// the given databases: one row per primary member. An empty list means
// every clustered database the requester hosts as a primary — not singles
// (one primary) and not those it hosts as a secondary. memberStatus is
// APPLYING, REPLICATING (its copy is still being copied or started) or
// UNAVAILABLE (unreachable); replicationSuccessful is the requester's own
// result, the same in every row of a database: true while the database
// has a leader and a majority of its members can replicate. A database
// the requester does not host answers one row carrying the error.
func (s *Simulator) statusCheckRows(req *simServer, dbs []string) []map[string]any {
	now := s.now()
	type member struct {
		srv     *simServer
		pending bool // its copy is not online yet: REPLICATING
	}
	all := len(dbs) == 0
	if all {
		dbs = append(dbs, "system")
		for _, db := range s.sortedDBs() {
			dbs = append(dbs, db.name)
		}
	}
	var rows []map[string]any
	for _, name := range dbs {
		var members []member
		leader, term := "", int64(0)
		if name == "system" {
			for _, srv := range s.servers {
				if srv.sysPrimary && srv.state != StateDropped {
					members = append(members, member{srv: srv})
				}
			}
			leader, term = s.sysLeader, s.sysTerm
		} else if db := s.dbs[name]; db != nil {
			for _, a := range db.allocs {
				if srv := s.serverByID(a.server); srv != nil && a.role == rolePrimary {
					members = append(members, member{srv: srv, pending: now.Before(a.readyAt) || now.Before(db.changeAt)})
				}
			}
			leader, term = db.leader, db.term
		}
		hosts := slices.ContainsFunc(members, func(m member) bool { return m.srv == req })
		if all && (!hosts || len(members) < 2) {
			continue
		}
		if !hosts {
			rows = append(rows, map[string]any{
				"database": name, "serverId": req.id, "serverName": req.name, "address": req.advertised,
				"replicationSuccessful": false, "memberStatus": "UNAVAILABLE", "recognisedLeader": nil,
				"recognisedLeaderTerm": int64(0), "requester": true,
				"error": fmt.Sprintf("database %s does not exist on the requester (it is not a primary of it)", name),
			})
			continue
		}
		split := s.splitBrain[name] || s.splitBrain["*"]
		replicating := 0
		for _, m := range members {
			if m.srv.available {
				replicating++
			}
		}
		ok := leader != "" && replicating*2 > len(members)
		for i, m := range members {
			srv := m.srv
			l, t := leader, term
			if split && len(members) > 1 && i == len(members)-1 {
				// The last member still follows a stale leader from an older
				// term: the picture a network partition leaves behind.
				l, t = members[0].srv.id, term-1
				if l == leader {
					l = members[1].srv.id
				}
				if t < 0 {
					t = 0
				}
			}
			status := "APPLYING"
			switch {
			case !srv.available:
				status = "UNAVAILABLE"
			case m.pending:
				status = "REPLICATING"
			}
			var lcol any
			if l != "" {
				lcol = l
			}
			rows = append(rows, map[string]any{
				"database":              name,
				"serverId":              srv.id,
				"serverName":            srv.name,
				"address":               srv.advertised,
				"replicationSuccessful": ok,
				"memberStatus":          status,
				"recognisedLeader":      lcol,
				"recognisedLeaderTerm":  t,
				"requester":             srv == req,
				"error":                 nil,
			})
		}
	}
	return rows
}

var statusCheckColumns = []string{"database", "serverId", "serverName", "address", "replicationSuccessful",
	"memberStatus", "recognisedLeader", "recognisedLeaderTerm", "requester", "error"}

// parseServerOptions validates ENABLE/ALTER SERVER options the way Neo4j does.
func parseServerOptions(v any) (mode string, allowed, denied, tags []string, err *cypherError) {
	mode = "NONE"
	if v == nil {
		return mode, nil, nil, nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return "", nil, nil, nil, &cypherError{code: codeTypeError, msg: fmt.Sprintf("Expected OPTIONS to be a map but got %T", v)}
	}
	strs := func(k string, x any) ([]string, *cypherError) {
		l, ok := x.([]any)
		if !ok {
			if s, ok := x.(string); ok {
				return []string{s}, nil
			}
			return nil, &cypherError{code: CodeArgumentError, msg: fmt.Sprintf("%s expects a list of strings but got '%v'.", k, x)}
		}
		out := make([]string, 0, len(l))
		for _, e := range l {
			s, ok := e.(string)
			if !ok {
				return nil, &cypherError{code: CodeArgumentError, msg: fmt.Sprintf("%s expects a list of strings but got '%v'.", k, x)}
			}
			out = append(out, s)
		}
		return out, nil
	}
	for _, k := range sortedKeys(m) {
		x := m[k]
		switch k {
		case "modeConstraint":
			s, _ := x.(string)
			switch strings.ToUpper(s) {
			case "NONE", "PRIMARY", "SECONDARY":
				mode = strings.ToUpper(s)
			default:
				return "", nil, nil, nil, &cypherError{code: CodeArgumentError,
					msg: fmt.Sprintf("modeConstraint expects 'NONE', 'PRIMARY' or 'SECONDARY' but got '%v'.", x)}
			}
		case "allowedDatabases":
			if allowed, err = strs(k, x); err != nil {
				return
			}
		case "deniedDatabases":
			if denied, err = strs(k, x); err != nil {
				return
			}
		case "tags":
			if tags, err = strs(k, x); err != nil {
				return
			}
		default:
			return "", nil, nil, nil, &cypherError{code: CodeArgumentError,
				msg: fmt.Sprintf("Could not find option '%s'. Valid options are: allowedDatabases, deniedDatabases, modeConstraint, tags", k)}
		}
	}
	if len(allowed) > 0 && len(denied) > 0 {
		return "", nil, nil, nil, &cypherError{code: CodeArgumentError, msg: "Can't specify both allowed and denied databases",
			gqlStatus: "42N85", description: "error: syntax error or access rule violation - allowed and denied database options are mutually exclusive. The allowed and denied database options are mutually exclusive."}
	}
	return mode, allowed, denied, tags, nil
}

func (s *Simulator) enableServer(ref string, opts any, hasOpts bool) *cypherError {
	op := fmt.Sprintf("Could not enable server '%s'.", ref)
	srv := s.findServer(ref)
	if srv == nil {
		return topologyError(op, fmt.Sprintf("Server '%s' does not exist.", ref))
	}
	if _, _, _, _, err := parseServerOptions(opts); err != nil {
		return err
	}
	mode, allowed, denied, tags, err := parseServerOptions(s.withInitialOptions(srv, opts))
	if err != nil {
		return err
	}
	switch srv.state {
	case StateFree:
	case StateCordoned:
		if !hasOpts {
			srv.state = StateEnabled
			return nil
		}
	case StateEnabled:
		if !hasOpts || (mode == srv.mode && slices.Equal(nonNil(allowed), nonNil(srv.allowed)) &&
			slices.Equal(nonNil(denied), nonNil(srv.denied)) && slices.Equal(nonNil(tags), nonNil(srv.tags))) {
			return nil // idempotent for equal options
		}
		return topologyError(op, fmt.Sprintf("Server '%s' is already enabled with different options; use ALTER SERVER to change them.", ref))
	default:
		return topologyError(op, fmt.Sprintf("Server '%s' is in state '%s' and cannot be enabled.", ref, srv.state))
	}
	srv.state = StateEnabled
	srv.mode, srv.allowed, srv.denied, srv.tags = mode, allowed, denied, tags
	return nil
}

// withInitialOptions completes ENABLE SERVER's OPTIONS with the server's
// initial.server.* settings for what they leave out; what OPTIONS say wins,
// and allowed and denied databases replace each other
// (fact: server.enable-defaults).
func (s *Simulator) withInitialOptions(srv *simServer, opts any) any {
	given, _ := opts.(map[string]any)
	merged := s.initialOptions(srv)
	_, a := given["allowedDatabases"]
	_, d := given["deniedDatabases"]
	if a || d {
		delete(merged, "allowedDatabases")
		delete(merged, "deniedDatabases")
	}
	for k, v := range given {
		merged[k] = v
	}
	return merged
}

// enableWithDefaults enables srv with its initial.server.* options, as a
// bootstrapping member or an automatically enabled free server is.
func (s *Simulator) enableWithDefaults(srv *simServer) {
	srv.state = StateEnabled
	if mode, allowed, denied, tags, err := parseServerOptions(s.withInitialOptions(srv, nil)); err == nil {
		srv.mode, srv.allowed, srv.denied, srv.tags = mode, allowed, denied, tags
	}
}

// fact: server.alter-replaces-options
func (s *Simulator) alterServer(ref string, opts any) *cypherError {
	op := fmt.Sprintf("Could not alter server '%s'.", ref)
	srv := s.findServer(ref)
	if srv == nil {
		return topologyError(op, fmt.Sprintf("Server '%s' does not exist.", ref))
	}
	mode, allowed, denied, tags, err := parseServerOptions(opts)
	if err != nil {
		return err
	}
	// fact: server.alter-moves: what the new options forbid moves to
	// other servers; if a topology cannot be held, nothing changes.
	oldMode, oldAllowed, oldDenied, oldTags := srv.mode, srv.allowed, srv.denied, srv.tags
	srv.mode, srv.allowed, srv.denied, srv.tags = mode, allowed, denied, tags
	readyAt := s.now().Add(s.cfg.TransitionDelay)
	type change struct {
		db      *simDatabase
		allocs  []allocation
		leaving []allocation
	}
	var changes []change
	for _, db := range s.sortedDBs() {
		forbidden := slices.ContainsFunc(db.allocs, func(a allocation) bool {
			return a.server == srv.id && (!srv.allowsRole(a.role) || !srv.allowsDatabase(db.name))
		})
		if !forbidden {
			continue
		}
		allocs, msg := s.place(db.name, db.allocs, db.primaries, db.secondaries, nil, readyAt)
		if msg != "" {
			srv.mode, srv.allowed, srv.denied, srv.tags = oldMode, oldAllowed, oldDenied, oldTags
			return topologyError(op, msg)
		}
		var leaving []allocation
		for _, a := range db.allocs {
			if !slices.ContainsFunc(allocs, func(b allocation) bool { return b.server == a.server && b.role == a.role }) {
				leaving = append(leaving, allocation{server: a.server, role: a.role, readyAt: readyAt})
			}
		}
		changes = append(changes, change{db, allocs, leaving})
	}
	for _, c := range changes {
		c.db.allocs = c.allocs
		c.db.leaving = append(c.db.leaving, c.leaving...)
	}
	return nil
}

func (s *Simulator) renameServer(from, to string) *cypherError {
	op := fmt.Sprintf("Could not rename server '%s'.", from)
	srv := s.findServer(from)
	if srv == nil {
		return topologyError(op, fmt.Sprintf("Server '%s' does not exist.", from))
	}
	if other := s.findServer(to); other != nil && other != srv {
		return topologyError(op, fmt.Sprintf("Server with name '%s' already exists.", to))
	}
	srv.name = to
	return nil
}

// fact: server.cordon
func (s *Simulator) cordonServer(ref string) *cypherError {
	op := fmt.Sprintf("Could not cordon server '%s'.", ref)
	srv := s.findServer(ref)
	if srv == nil {
		return topologyError(op, fmt.Sprintf("Server '%s' does not exist.", ref))
	}
	switch srv.state {
	case StateEnabled, StateCordoned:
		srv.state = StateCordoned
		return nil
	}
	return topologyError(op, fmt.Sprintf("Server '%s' is in state '%s' and cannot be cordoned.", ref, srv.state))
}

// move is one planned reallocation, the row shape of DRYRUN DEALLOCATE /
// DRYRUN REALLOCATE.
type move struct {
	db       string
	from, to *simServer
	role     string
}

func moveRows(moves []move) []map[string]any {
	var rows []map[string]any
	for _, m := range moves {
		rows = append(rows, map[string]any{
			"database":       m.db,
			"fromServerName": m.from.name,
			"fromServerId":   m.from.id,
			"toServerName":   m.to.name,
			"toServerId":     m.to.id,
			"mode":           m.role,
		})
	}
	return rows
}

var moveColumns = []string{"database", "fromServerName", "fromServerId", "toServerName", "toServerId", "mode"}

// fact: server.deallocate-refusals, fact: server.deallocate-moves
// deallocate plans (and unless dry, applies) moving every database off the
// given servers. It refuses what Neo4j refuses: offline databases, sole
// primaries, and topologies the remaining servers cannot hold.
func (s *Simulator) deallocate(refs []string, dry bool) ([]move, *cypherError) {
	op := fmt.Sprintf("Could not deallocate server(s) '%s'.", strings.Join(refs, ","))
	exclude := map[string]bool{}
	var targets []*simServer
	for _, ref := range refs {
		srv := s.findServer(ref)
		if srv == nil {
			return nil, topologyError(op, fmt.Sprintf("Server '%s' does not exist.", ref))
		}
		exclude[srv.id] = true
		targets = append(targets, srv)
	}
	type plan struct {
		db     *simDatabase
		allocs []allocation
		moved  []allocation
	}
	var plans []plan
	var moves []move
	readyAt := s.now().Add(s.cfg.TransitionDelay)
	for _, db := range s.sortedDBs() {
		var leaving []allocation
		primaries := 0
		for _, a := range db.allocs {
			if exclude[a.server] {
				leaving = append(leaving, a)
			}
			if a.role == rolePrimary {
				primaries++
			}
		}
		if len(leaving) == 0 {
			continue
		}
		quarantinedHere := slices.ContainsFunc(leaving, func(a allocation) bool { _, q := db.quarantined[a.server]; return q })
		if db.stopped || db.statusMsg != "" || quarantinedHere {
			return nil, topologyError(op, fmt.Sprintf("Database '%s' is offline and cannot be moved; start it or drop it first.", db.name))
		}
		cordoned := 0
		for _, a := range db.allocs {
			if srv := s.serverByID(a.server); a.role == rolePrimary && srv != nil && srv.state == StateCordoned {
				cordoned++
			}
		}
		if cordoned*2 > primaries {
			return nil, topologyError(op, fmt.Sprintf("A quorum of the servers hosting database '%s' as primary (%d of %d) is cordoned; enable some of them first.", db.name, cordoned, primaries))
		}
		for _, a := range leaving {
			if a.role == rolePrimary && primaries == 1 {
				return nil, topologyError(op, fmt.Sprintf("Database '%s' has only one primary, hosted on server '%s', and a single-primary database cannot be moved. Increase its primaries first (ALTER DATABASE `%s` SET TOPOLOGY 2 PRIMARIES).",
					db.name, s.serverByID(a.server).name, db.name))
			}
		}
		allocs, msg := s.place(db.name, db.allocs, db.primaries, db.secondaries, exclude, readyAt)
		if msg != "" {
			return nil, topologyError(op, msg)
		}
		var added []allocation
		for _, a := range allocs {
			if !slices.ContainsFunc(db.allocs, func(b allocation) bool { return b.server == a.server }) {
				added = append(added, a)
			}
		}
		for i, a := range leaving {
			if len(added) == 0 {
				break
			}
			to := added[min(i, len(added)-1)]
			moves = append(moves, move{db: db.name, from: s.serverByID(a.server), to: s.serverByID(to.server), role: a.role})
		}
		plans = append(plans, plan{db: db, allocs: allocs, moved: leaving})
	}
	if dry {
		return moves, nil
	}
	for _, p := range plans {
		p.db.allocs = p.allocs
		p.db.leaving = append(p.db.leaving, p.moved...)
	}
	for _, srv := range targets {
		if srv.state == StateDeallocating || srv.state == StateDeallocated {
			continue
		}
		srv.state = StateDeallocating
		srv.deallocDone = readyAt
	}
	return moves, nil
}

// fact: database.reallocate
// reallocate evens out allocations: it moves databases from the busiest
// server to the idlest one while that lowers the spread.
func (s *Simulator) reallocate(dry bool) []move {
	type alloc struct {
		db  *simDatabase
		idx int
	}
	loads := map[string]int{}
	for _, srv := range s.servers {
		// Rebalancing moves copies between servers that can run them now.
		if srv.placeable() && srv.available {
			loads[srv.id] = s.load(srv.id)
		}
	}
	copies := map[string][]allocation{}
	for _, db := range s.dbs {
		copies[db.name] = slices.Clone(db.allocs)
	}
	readyAt := s.now().Add(s.cfg.TransitionDelay)
	var moves []move
	for range 1000 {
		var from, to *simServer
		for _, srv := range s.servers {
			l, ok := loads[srv.id]
			if !ok {
				continue
			}
			if from == nil || l > loads[from.id] {
				from = srv
			}
			if to == nil || l < loads[to.id] {
				to = srv
			}
		}
		if from == nil || loads[from.id]-loads[to.id] < 2 {
			break
		}
		done := false
		for _, db := range s.sortedDBs() {
			allocs := copies[db.name]
			if slices.ContainsFunc(allocs, func(a allocation) bool { return a.server == to.id }) {
				continue
			}
			for i, a := range allocs {
				if a.server == from.id && to.allowsRole(a.role) && to.allowsDatabase(db.name) {
					allocs[i] = allocation{server: to.id, role: a.role, readyAt: readyAt}
					moves = append(moves, move{db: db.name, from: from, to: to, role: a.role})
					loads[from.id]--
					loads[to.id]++
					done = true
					break
				}
			}
			if done {
				break
			}
		}
		if !done {
			break
		}
	}
	if !dry {
		s.applyMoves(moves, readyAt)
	}
	return moves
}

// applyMoves carries out reallocation moves: the new copy starts its store
// copy, the old one keeps running until it is done.
func (s *Simulator) applyMoves(moves []move, readyAt time.Time) {
	for _, m := range moves {
		db := s.dbs[m.db]
		for i, a := range db.allocs {
			if a.server == m.from.id && a.role == m.role {
				db.allocs[i] = allocation{server: m.to.id, role: a.role, readyAt: readyAt}
				db.leaving = append(db.leaving, allocation{server: m.from.id, role: a.role, readyAt: readyAt})
				break
			}
		}
	}
}

// fact: server.drop
func (s *Simulator) dropServer(ref string) *cypherError {
	op := fmt.Sprintf("Could not drop server '%s'.", ref)
	srv := s.findServer(ref)
	if srv == nil {
		return topologyError(op, fmt.Sprintf("Server '%s' does not exist.", ref))
	}
	// fact: server.lost-removal: the disaster-recovery guide drops lost
	// servers that are still Deallocating.
	lost := srv.state == StateDeallocating && !srv.available
	if srv.state != StateDeallocated && !lost {
		return topologyError(op, fmt.Sprintf("Server '%s' must be in state 'Deallocated' to be dropped, but is in state '%s'. Deallocate it first (DEALLOCATE DATABASES FROM SERVER '%s').", ref, srv.state, ref))
	}
	srv.state = StateDropped
	srv.sysPrimary = false
	for _, db := range s.dbs {
		db.leaving = slices.DeleteFunc(db.leaving, func(a allocation) bool { return a.server == srv.id })
	}
	return nil
}

func intArg(v any, what string) (int, *cypherError) {
	switch n := v.(type) {
	case int64:
		if n < 0 {
			return 0, &cypherError{code: CodeArgumentError, msg: fmt.Sprintf("Invalid input. '%d' is not a valid value. Must be a non-negative integer.", n)}
		}
		return int(n), nil
	case nil:
		return 0, nil
	}
	return 0, &cypherError{code: codeTypeError, msg: fmt.Sprintf("Expected %s to be an INTEGER but got %v", what, v)}
}

func (s *Simulator) createDatabase(name string, orReplace, ifNotExists bool, p, sec int, options map[string]any, wait bool) ([]map[string]any, *cypherError) {
	if name == "system" || (s.dbs[name] != nil && !orReplace) {
		if ifNotExists {
			return nil, nil
		}
		return nil, &cypherError{code: CodeExistingDatabase,
			msg:       fmt.Sprintf("Failed to create the specified database '%s': Database already exists.", name),
			gqlStatus: "42N11", description: fmt.Sprintf("error: syntax error or access rule violation - graph reference already exists. A graph reference with the name '%s' already exists.", name)}
	}
	if p < 1 {
		return nil, topologyError(fmt.Sprintf("Could not create database '%s'.", name), "A database must have at least one primary.")
	}
	readyAt := s.now().Add(s.cfg.TransitionDelay)
	if wait {
		readyAt = s.now()
	}
	allocs, msg := s.place(name, nil, p, sec, nil, readyAt)
	if msg != "" {
		return nil, topologyError(fmt.Sprintf("Could not create database '%s'.", name), msg)
	}
	now := s.now()
	db := &simDatabase{name: name, id: strings.ToUpper(strings.ReplaceAll(newUUID(), "-", "")), primaries: p, secondaries: sec,
		options: options, allocs: allocs, created: now, started: now, txn: 2}
	s.dbs[name] = db
	s.electLeader(db)
	s.seed(db, seedURIOf(options)) // seed.go
	if !wait {
		return nil, nil
	}
	var rows []map[string]any
	for _, a := range allocs {
		rows = append(rows, map[string]any{
			"address": s.serverByID(a.server).advertised,
			"state":   "CaughtUp",
			"message": "caught up",
			"success": true,
		})
	}
	return rows, nil
}

func (s *Simulator) alterTopology(name string, ifExists bool, p, sec int, hasSec bool) *cypherError {
	db := s.dbs[name]
	if name == "system" {
		return topologyError(fmt.Sprintf("Could not alter database '%s'.", name), "The topology of the system database cannot be altered.")
	}
	if db == nil {
		if ifExists {
			return nil
		}
		return databaseNotFound("alter", name)
	}
	if !hasSec {
		sec = db.secondaries
	}
	op := fmt.Sprintf("Could not alter database '%s'.", name)
	if p < 1 {
		return topologyError(op, "A database must have at least one primary.")
	}
	// fact: database.many-to-one-primary
	if db.primaries > 1 && p == 1 {
		e := topologyError(op, "Can't go from multiple primaries to one primary.")
		return e
	}
	allocs, msg := s.place(name, db.allocs, p, sec, nil, s.now().Add(s.cfg.TransitionDelay))
	if msg != "" {
		return topologyError(op, msg)
	}
	db.primaries, db.secondaries, db.allocs = p, sec, allocs
	s.electLeader(db)
	return nil
}
