package healthcheck

import (
	"fmt"
	"net"
	"slices"
	"sort"
	"strings"

	"github.com/neo4jctl/neo4jctl/internal/state"
)

// Check IDs of the Neo4j plane.
const (
	IDServers     = "neo4j.servers"
	IDStrays      = "neo4j.servers.unowned"
	IDDatabases   = "neo4j.databases.status"
	IDTopology    = "neo4j.databases.topology"
	IDWriters     = "neo4j.databases.writer"
	IDStatusCheck = "neo4j.statuscheck"
	IDLag         = "neo4j.databases.lag"
)

// ReplicationLagWarn is how many transactions a copy may be behind its
// database's writer before neo4j.databases.lag warns. The Operations
// Manual gives no number — only that a replicationLag "persistently high"
// may be a problem (clustering/monitoring/show-databases-monitoring.adoc §
// Listing more details about databases) — so this is neo4jctl's choice:
// primaries commit through a majority and a healthy secondary pulls within
// moments, so a few transactions behind is normal under load while a
// thousand means a copy that is not keeping up. One read cannot tell
// "persistently": the check warns, never fails (docs/healthcheck.md).
const ReplicationLagWarn = 1000

// neo4jUnread is a Neo4j check that could not run: UNKNOWN, or SKIP when
// the user asked not to read Neo4j (--skip-neo4j).
func neo4jUnread(in *Input, id, title string) Check {
	if in.Neo4jSkipped {
		return Check{ID: id, Title: title, Status: Skip, Summary: "Neo4j not read (--skip-neo4j)"}
	}
	return Check{ID: id, Title: title, Status: Unknown, Summary: "could not read Neo4j: " + in.Neo4j.Reason,
		Fix: "check that a server Pod is Ready and the credentials in spec.auth.secretRef are right; --neo4j-uri connects elsewhere"}
}

func community(in *Input) bool {
	return in.Expected.Edition == "community" || in.Neo4j.Edition == "community"
}

// serverName is how messages name a server: its name (the UUID until
// renamed) and, when known, the Pod it runs in.
func serverName(in *Input, id string) string {
	s, ok := in.Neo4j.Servers[id]
	if !ok {
		if id == "" {
			return "an unknown server"
		}
		return id
	}
	if pod := podOf(in, s); pod != "" && pod != s.Name {
		return fmt.Sprintf("%s (Pod %s)", s.Name, pod)
	}
	return s.Name
}

// podOf maps a server to the Pod whose DNS name its advertised address
// carries (SHOW SERVERS has no Pod name; the address is the link).
func podOf(in *Input, s state.Server) string {
	host := s.Address
	if h, _, err := net.SplitHostPort(s.Address); err == nil {
		host = h
	}
	if host == "" {
		return ""
	}
	for _, e := range in.Expected.Servers {
		if host == e.Host || strings.SplitN(host, ".", 2)[0] == e.Pod {
			return e.Pod
		}
	}
	return ""
}

func sortedServerIDs(m map[string]state.Server) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		if m[ids[i]].Name != m[ids[j]].Name {
			return m[ids[i]].Name < m[ids[j]].Name
		}
		return ids[i] < ids[j]
	})
	return ids
}

// checkServers: every server of the cluster file present, Enabled and
// Available (Operations Manual, clustering/monitoring/show-servers-monitoring
// and clustering/servers: the lifecycle Free → Enabled → Cordoned /
// Deallocating → Deallocated → Dropped). SHOW SERVERS reports no time of the
// last state change, so how long a server has been so cannot be known.
func checkServers(in *Input) Check {
	c := Check{ID: IDServers, Title: "Servers Enabled and Available"}
	if community(in) {
		c.Status, c.Summary = Skip, "Community Edition has no SHOW SERVERS"
		return c
	}
	if !in.Neo4j.Reachable {
		return neo4jUnread(in, c.ID, c.Title)
	}
	byPod := map[string][]state.Server{}
	for _, id := range sortedServerIDs(in.Neo4j.Servers) {
		s := in.Neo4j.Servers[id]
		if s.State == state.ServerDropped {
			continue
		}
		if pod := podOf(in, s); pod != "" {
			byPod[pod] = append(byPod[pod], s)
		}
	}
	var bad, ok []string
	var fixes []string
	addFix := func(f string) {
		if !slices.Contains(fixes, f) {
			fixes = append(fixes, f)
		}
	}
	for _, e := range in.Expected.Servers {
		servers := byPod[e.Pod]
		if len(servers) == 0 {
			bad = append(bad, fmt.Sprintf("%s: no server in SHOW SERVERS advertises %s", e.Pod, e.Host))
			addFix("a server appears once its Pod runs Neo4j (see " + IDPods + ")")
			continue
		}
		for _, s := range servers {
			line := fmt.Sprintf("%s: server %s %s, %s, hosting %s", e.Pod, s.Name, s.State, s.Health, strings.Join(s.Hosting, ","))
			if ServerHealthy(s) {
				ok = append(ok, line)
				continue
			}
			bad = append(bad, line)
			switch s.State {
			case state.ServerFree:
				addFix("a Free server hosts nothing: run neo4jctl apply to ENABLE it")
			case state.ServerCordoned:
				addFix("a Cordoned server takes no new allocations: ENABLE SERVER '" + s.Name + "' (or run neo4jctl apply) once it is fit to serve")
			case state.ServerDeallocating, state.ServerDeallocated:
				addFix("a Deallocating or Deallocated server is on its way out of the cluster (irreversible): finish the scale-in with neo4jctl apply, or wipe its volume before it may rejoin")
			}
			if s.Health != state.HealthAvailable {
				addFix("an Unavailable server is not reachable by the cluster: read its Pod's log (kubectl -n " + in.Expected.Namespace + " logs " + e.Pod + ")")
			}
		}
	}
	if len(bad) == 0 {
		c.Status = Pass
		c.Summary = fmt.Sprintf("%d of %d servers Enabled and Available", len(ok), len(in.Expected.Servers))
		c.Evidence = ok
		return c
	}
	c.Status = Fail
	c.Summary = fmt.Sprintf("%d of %d servers Enabled and Available", len(ok), len(in.Expected.Servers))
	c.Evidence = append(bad, "(SHOW SERVERS reports no time of the last state change: how long is unknown)")
	c.Fix = strings.Join(fixes, "; ")
	return c
}

// checkStrays: servers in SHOW SERVERS that belong to no Pod of the cluster
// file (a scaled-in server never dropped, a Pod of another file).
func checkStrays(in *Input) Check {
	c := Check{ID: IDStrays, Title: "Servers without a Pod"}
	if community(in) {
		c.Status, c.Summary = Skip, "Community Edition has no SHOW SERVERS"
		return c
	}
	if !in.Neo4j.Reachable {
		return neo4jUnread(in, c.ID, c.Title)
	}
	var strays []string
	for _, id := range sortedServerIDs(in.Neo4j.Servers) {
		s := in.Neo4j.Servers[id]
		if s.State == state.ServerDropped || podOf(in, s) != "" {
			continue
		}
		strays = append(strays, fmt.Sprintf("%s (%s): %s, %s, address %q, hosting %s", s.Name, s.ID, s.State, s.Health, s.Address, strings.Join(s.Hosting, ",")))
	}
	if len(strays) == 0 {
		c.Status, c.Summary = Pass, "every server belongs to a Pod of the cluster file"
		return c
	}
	c.Status = Warn
	c.Summary = fmt.Sprintf("%d %s in SHOW SERVERS %s to no Pod of the cluster file", len(strays), plural(len(strays), "server", "servers"), plural(len(strays), "belongs", "belong"))
	c.Evidence = strays
	c.Fix = "a server whose Pod is gone for good should be deallocated and dropped (neo4jctl plan shows the steps); an Unavailable one may be a Pod that moved"
	return c
}

// allocsByDB groups SHOW DATABASES rows by database, in name order.
func allocsByDB(rows []state.DatabaseAllocation) ([]string, map[string][]state.DatabaseAllocation) {
	m := map[string][]state.DatabaseAllocation{}
	var names []string
	for _, r := range rows {
		if _, ok := m[r.Name]; !ok {
			names = append(names, r.Name)
		}
		m[r.Name] = append(m[r.Name], r)
	}
	sort.Strings(names)
	return names, m
}

func allocWhere(in *Input, a state.DatabaseAllocation) string {
	if a.ServerID != "" {
		return serverName(in, a.ServerID)
	}
	if a.Address != "" {
		return a.Address
	}
	return "no server"
}

// checkDatabaseStatus: requestedStatus == currentStatus on every
// allocation (Operations Manual, clustering/monitoring/show-databases-monitoring).
func checkDatabaseStatus(in *Input) Check {
	c := Check{ID: IDDatabases, Title: "Databases as requested"}
	if !in.Neo4j.Reachable {
		return neo4jUnread(in, c.ID, c.Title)
	}
	names, by := allocsByDB(in.Neo4j.Databases)
	var bad []string
	for _, name := range names {
		for _, a := range by[name] {
			if AllocationAsRequested(a) {
				continue
			}
			line := fmt.Sprintf("%s on %s: requested %s, current %s", name, allocWhere(in, a), a.RequestedStatus, a.CurrentStatus)
			if a.StatusMessage != "" {
				line += ": " + a.StatusMessage
			}
			bad = append(bad, line)
		}
	}
	if len(bad) == 0 {
		c.Status, c.Summary = Pass, fmt.Sprintf("%d %s, every allocation as requested", len(names), plural(len(names), "database", "databases"))
		return c
	}
	c.Status = Fail
	c.Summary = fmt.Sprintf("%d %s not in the requested status", len(bad), plural(len(bad), "allocation", "allocations"))
	c.Evidence = capEvidence(bad)
	c.Fix = "read the statusMessage; a quarantined database needs dbms.unquarantineDatabase after the cause is fixed, an offline one START DATABASE (Operations Manual, database-administration)"
	return c
}

// checkTopology: the cluster file's topology vs what Neo4j was asked
// (requested*Count) vs what is allocated and online (current*Count).
func checkTopology(in *Input) Check {
	c := Check{ID: IDTopology, Title: "Database topology"}
	if !in.Neo4j.Reachable {
		return neo4jUnread(in, c.ID, c.Title)
	}
	_, by := allocsByDB(in.Neo4j.Databases)
	var fails, warns, ok []string
	for _, want := range in.Expected.Databases {
		rows := by[want.Name]
		if len(rows) == 0 {
			fails = append(fails, fmt.Sprintf("%s: does not exist", want.Name))
			continue
		}
		r := rows[0]
		line := fmt.Sprintf("%s: file %s, requested %dp/%ds, online %dp/%ds", want.Name, topo(want), r.RequestedPrimaries, r.RequestedSecondaries, r.CurrentPrimaries, r.CurrentSecondaries)
		switch {
		case community(in):
			ok = append(ok, want.Name+": standalone")
		case r.CurrentPrimaries < r.RequestedPrimaries || r.CurrentSecondaries < r.RequestedSecondaries:
			fails = append(fails, line)
		case (want.Primaries != 0 && int64(want.Primaries) != r.RequestedPrimaries) ||
			(want.Primaries != 0 && int64(want.Secondaries) != r.RequestedSecondaries):
			warns = append(warns, line)
		default:
			ok = append(ok, line)
		}
	}
	switch {
	case len(fails) > 0:
		c.Status, c.Summary, c.Evidence = Fail, "a database is missing or has fewer allocations online than requested", append(fails, warns...)
		c.Fix = "a missing database is created by neo4jctl apply; fewer online than requested: see " + IDDatabases + " and " + IDServers
	case len(warns) > 0:
		c.Status, c.Summary, c.Evidence = Warn, "a database's topology differs from the cluster file", warns
		c.Fix = "run neo4jctl plan to see the ALTER DATABASE … SET TOPOLOGY step, then apply"
	default:
		c.Status, c.Summary, c.Evidence = Pass, fmt.Sprintf("%d cluster-file %s at the asked topology", len(ok), plural(len(ok), "database", "databases")), ok
	}
	return c
}

func topo(d ExpectedDatabase) string {
	if d.Primaries == 0 {
		return "default"
	}
	return fmt.Sprintf("%dp/%ds", d.Primaries, d.Secondaries)
}

// writers returns, per database, the servers whose allocation reports
// writer=true in SHOW DATABASES.
func writers(rows []state.DatabaseAllocation) map[string][]state.DatabaseAllocation {
	out := map[string][]state.DatabaseAllocation{}
	for _, r := range rows {
		if r.Writer {
			out[r.Name] = append(out[r.Name], r)
		}
	}
	return out
}

// SplitBrainSuspects names the databases that more than one server reports
// itself writer for. The command re-reads SHOW DATABASES after a pause when
// there are any, so that Compute can tell a leader change in flight (one
// read) from a split-brain (two reads).
func SplitBrainSuspects(rows []state.DatabaseAllocation) []string {
	var out []string
	for db, w := range writers(rows) {
		if len(w) > 1 {
			out = append(out, db)
		}
	}
	sort.Strings(out)
	return out
}

// checkWriters: every online database has exactly one writer. Two servers
// reporting themselves writer for one database is a split-brain: reported
// with the evidence, never acted on; FAIL when a second read at least the
// recheck interval later shows it too, WARN on a single read (a leader
// change in flight can show two for a moment).
func checkWriters(in *Input) Check {
	c := Check{ID: IDWriters, Title: "One writer per database"}
	if !in.Neo4j.Reachable {
		return neo4jUnread(in, c.ID, c.Title)
	}
	names, by := allocsByDB(in.Neo4j.Databases)
	w := writers(in.Neo4j.Databases)
	var again map[string][]state.DatabaseAllocation
	if in.Recheck != nil && in.Recheck.Err == "" {
		again = writers(in.Recheck.Databases)
	}
	var fails, warns, ok []string
	for _, name := range names {
		// A composite database has no store and no writer of its own
		// (Operations Manual, database-administration/composite-databases).
		online := slices.ContainsFunc(by[name], func(a state.DatabaseAllocation) bool {
			return a.RequestedStatus == "online" && a.Type != "composite"
		})
		switch n := len(w[name]); {
		case n > 1:
			var who []string
			for _, a := range w[name] {
				who = append(who, fmt.Sprintf("%s reports role %s, writer", allocWhere(in, a), a.Role))
			}
			line := fmt.Sprintf("%s: split-brain: %d servers report themselves writer: %s", name, n, strings.Join(who, "; "))
			if len(again[name]) > 1 {
				fails = append(fails, line+fmt.Sprintf("; still %d writers %s later", len(again[name]), in.Recheck.After))
			} else if in.Recheck != nil && in.Recheck.Err == "" {
				warns = append(warns, line+fmt.Sprintf("; one writer %s later (a leader change in flight)", in.Recheck.After))
			} else {
				warns = append(warns, line+" (a single read)")
			}
		case n == 0 && online && !community(in):
			fails = append(fails, fmt.Sprintf("%s: no server reports itself writer: writes fail", name))
		case n == 1:
			ok = append(ok, fmt.Sprintf("%s: writer %s", name, allocWhere(in, w[name][0])))
		}
	}
	switch {
	case len(fails) > 0:
		c.Status, c.Summary, c.Evidence = Fail, "a database has no writer or a split-brain was seen twice", append(fails, warns...)
		c.Fix = "neo4jctl does not act on this. A split-brain needs a person: find which servers were partitioned (their logs), keep the side whose leader has the highest term (" + IDStatusCheck + "), and restart the other side's servers; no writer usually means no quorum of primaries online"
	case len(warns) > 0:
		c.Status, c.Summary, c.Evidence = Warn, "two servers report themselves writer for one database (seen once)", warns
		c.Fix = "run neo4jctl healthcheck again: a split-brain seen on two reads fails this check; neo4jctl never acts on it"
	default:
		c.Status, c.Summary, c.Evidence = Pass, "every online database has one writer", ok
	}
	return c
}

// checkStatusCheck reads dbms.cluster.statusCheck (5.24+; Operations
// Manual, clustering/monitoring/status-check "Monitor replication status"):
// a member with replicationSuccessful=false cannot take part in
// replication; a database whose members that can replicate are not a
// majority cannot commit a write. Members reporting different leaders:
// trust the highest term.
func checkStatusCheck(in *Input) Check {
	c := Check{ID: IDStatusCheck, Title: "Replication (statusCheck)"}
	switch {
	case community(in):
		c.Status, c.Summary = Skip, "Community Edition has no cluster status check"
		return c
	case !in.Neo4j.Reachable:
		return neo4jUnread(in, c.ID, c.Title)
	case in.StatusCheckErr != "":
		c.Status, c.Summary = Unknown, "CALL dbms.cluster.statusCheck failed: "+in.StatusCheckErr
		c.Fix = "the procedure exists from Neo4j 5.24; check that the user may run it"
		return c
	case in.StatusCheck == nil:
		c.Status, c.Summary = Skip, fmt.Sprintf("Neo4j %s has no dbms.cluster.statusCheck (5.24+)", in.Neo4j.Version)
		return c
	}
	by := map[string][]state.StatusCheck{}
	var names []string
	for _, r := range in.StatusCheck {
		if _, ok := by[r.Database]; !ok {
			names = append(names, r.Database)
		}
		by[r.Database] = append(by[r.Database], r)
	}
	sort.Strings(names)
	var fails, warns, ok []string
	for _, db := range names {
		rows := by[db]
		var lagging []string
		good := 0
		leader, term := "", int64(-1)
		for _, r := range rows {
			if MemberFit(r) {
				good++
			} else {
				why := r.MemberStatus
				if r.Error != "" {
					why += ": " + r.Error
				}
				lagging = append(lagging, fmt.Sprintf("%s (%s)", memberName(in, r), why))
			}
			if r.RecognisedLeader != "" && r.RecognisedLeaderTerm > term {
				leader, term = r.RecognisedLeader, r.RecognisedLeaderTerm
			}
		}
		var stale []string
		for _, r := range rows {
			if r.RecognisedLeader != "" && r.RecognisedLeader != leader {
				stale = append(stale, fmt.Sprintf("%s recognises %s in term %d", memberName(in, r), serverName(in, r.RecognisedLeader), r.RecognisedLeaderTerm))
			}
		}
		writable := good*2 > len(rows)
		requesterFailed := !slices.ContainsFunc(rows, func(r state.StatusCheck) bool { return r.ReplicationSuccessful })
		if requesterFailed && len(lagging) == 0 {
			// replicationSuccessful is the answering server's own result,
			// the same in every row of a database.
			fails = append(fails, fmt.Sprintf("%s: the status check entry could not be replicated to a majority within the timeout (replicationSuccessful false): writes may be unavailable", db))
		}
		if len(lagging) > 0 {
			verdict := "a write would still succeed"
			if !writable {
				verdict = "a write would not succeed (no majority can replicate)"
			}
			fails = append(fails, fmt.Sprintf("%s: %d of %d members can replicate, %s; cannot replicate: %s", db, good, len(rows), verdict, strings.Join(lagging, ", ")))
		}
		if len(stale) > 0 {
			warns = append(warns, fmt.Sprintf("%s: members disagree on the leader; trusting %s (term %d, the highest); %s", db, serverName(in, leader), term, strings.Join(stale, "; ")))
		}
		if len(lagging) == 0 && len(stale) == 0 {
			ok = append(ok, fmt.Sprintf("%s: %d of %d members replicate, leader %s (term %d)", db, good, len(rows), serverName(in, leader), term))
		}
	}
	switch {
	case len(fails) > 0:
		c.Status, c.Summary, c.Evidence = Fail, "a member cannot replicate", append(fails, warns...)
		c.Fix = "see " + IDServers + " for the member's server; a member that stays behind needs its Pod's log read"
	case len(warns) > 0:
		c.Status, c.Summary, c.Evidence = Warn, "members recognise different leaders", warns
		c.Fix = "a member following an older term catches up once it hears from the leader; if it persists, read that member's log"
	default:
		c.Status, c.Summary, c.Evidence = Pass, "every member of every clustered database can replicate", ok
	}
	return c
}

func memberName(in *Input, r state.StatusCheck) string {
	if _, ok := in.Neo4j.Servers[r.ServerID]; ok {
		return serverName(in, r.ServerID)
	}
	if r.ServerName != "" {
		return r.ServerName
	}
	return r.ServerID
}

// checkReplicationLag: how many transactions each copy is behind its
// database's writer (SHOW DATABASES replicationLag; Operations Manual,
// database-administration/standard-databases/listing-databases.adoc § SHOW
// DATABASES output). WARN above ReplicationLagWarn on any copy; a copy that
// reports no lag (not online) is neo4j.databases.status's concern.
func checkReplicationLag(in *Input) Check {
	c := Check{ID: IDLag, Title: "Replication lag"}
	switch {
	case community(in):
		c.Status, c.Summary = Skip, "Community Edition has no replicas (replicationLag is always 0)"
		return c
	case !in.Neo4j.Reachable:
		return neo4jUnread(in, c.ID, c.Title)
	}
	names, by := allocsByDB(in.Neo4j.Databases)
	var warns, ok []string
	reported := 0
	for _, name := range names {
		var worst int64 = -1
		var where string
		for _, a := range by[name] {
			if a.ReplicationLag == nil {
				continue
			}
			reported++
			lag := *a.ReplicationLag
			if lag > ReplicationLagWarn {
				warns = append(warns, fmt.Sprintf("%s on %s (%s): %d transactions behind the writer", name, allocWhere(in, a), orNone(a.Role), lag))
			}
			if lag > worst {
				worst, where = lag, allocWhere(in, a)
			}
		}
		if worst >= 0 {
			ok = append(ok, fmt.Sprintf("%s: at most %d %s behind (%s)", name, worst, plural(int(min(worst, 2)), "transaction", "transactions"), where))
		}
	}
	switch {
	case len(warns) > 0:
		c.Status, c.Summary, c.Evidence = Warn, fmt.Sprintf("a copy is more than %d transactions behind its writer", ReplicationLagWarn), warns
		c.Fix = "a copy that stays behind is not keeping up: read its server's log and its Pod's resources (CPU, disk, network); run neo4jctl healthcheck again to see whether it catches up"
	case reported == 0:
		c.Status, c.Summary = Skip, "SHOW DATABASES reports no replicationLag (no copy online)"
	default:
		c.Status, c.Summary, c.Evidence = Pass, fmt.Sprintf("every copy within %d transactions of its writer", ReplicationLagWarn), ok
	}
	return c
}
