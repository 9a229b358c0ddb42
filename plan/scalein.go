package plan

import (
	"fmt"
	"sort"
	"strings"

	"github.com/neo4jctl/neo4jctl/internal/state"
)

// retiree is a server leaving the cluster: the server of Pod ord of sts.
type retiree struct {
	sts string
	ord int
	why string
}

// poolTarget returns the live replicas of a pool's StatefulSet and the
// replicas the plan takes it to: the cluster file's, unless an ignore rule
// gives spec.replicas to someone else (an autoscaler).
func poolTarget(pl Pool, o *state.Object, sts *draft) (live, target int) {
	live, target = int(pl.Replicas), int(pl.Replicas)
	if o != nil {
		live = liveReplicas(o.Live)
	}
	if o != nil && o.Live != nil && live != target && !hasDiff(sts, "spec.replicas") {
		target = live
	}
	return live, target
}

// outgoingOf lists the servers of sts at ordinals the plan does not keep,
// highest ordinal first. Free servers host nothing and leave with their Pod.
func (b *builder) outgoingOf(sts string, target int) []int {
	var out []int
	for ord, s := range b.byPod[sts] {
		if ord >= target && s.State != state.ServerFree {
			out = append(out, ord)
		}
	}
	sort.Sort(sort.Reverse(sort.IntSlice(out)))
	return out
}

// prepareScaleIn finds, before any pool is planned, every server the plan
// would retire across all pools (and pools removed from the cluster file),
// and reads Neo4j's answer to the one DRYRUN DEALLOCATE that names all of
// those still hosting databases. Without an answer the plan asks for one
// (Plan.DryRunsWanted).
func (b *builder) prepareScaleIn(pools []Pool, stsObj map[string]*state.Object, stsDrafts map[string]*draft, orphans []state.Object) {
	if !b.enterprise || !b.neoKnown {
		return
	}
	var ids []string
	add := func(sts string, ords []int) {
		for _, ord := range ords {
			s := b.byPod[sts][ord]
			b.leaving[s.ID] = true
			if s.State == state.ServerEnabled || s.State == state.ServerCordoned {
				ids = append(ids, s.ID)
			}
		}
	}
	for _, pl := range pools {
		_, target := poolTarget(pl, stsObj[pl.StatefulSet], stsDrafts[pl.StatefulSet])
		add(pl.StatefulSet, b.outgoingOf(pl.StatefulSet, target))
	}
	for _, o := range orphans {
		if o.Kind == "StatefulSet" && !hasOwners(o.Live) {
			add(o.Name, b.outgoingOf(o.Name, 0))
		}
	}
	sort.Strings(ids)
	b.deallocIDs = ids
	if len(ids) == 0 {
		return
	}
	for i, dr := range b.n.DryRuns {
		if dr.Kind == state.DryRunDeallocate && strings.Join(dr.ServerIDs, ",") == strings.Join(ids, ",") {
			b.deallocDryRun = &b.n.DryRuns[i]
			return
		}
	}
	b.p.DryRunsWanted = append(b.p.DryRunsWanted, state.DryRun{Kind: state.DryRunDeallocate, ServerIDs: ids})
}

// globalScaleInRefusals are the refusals that concern every scale-in of
// the plan at once: Neo4j refused the DRYRUN DEALLOCATE, or a server that
// stays is Unavailable. They are added to the plan once; every scale-in
// is refused while there are any.
func (b *builder) globalScaleInRefusals(addr string) []Refusal {
	if b.scaleInChecked {
		return b.scaleInGlobal
	}
	b.scaleInChecked = true
	var rs []Refusal
	for _, id := range sortedKeys(b.n.Servers) {
		s := b.n.Servers[id]
		if b.leaving[s.ID] || (s.State != state.ServerEnabled && s.State != state.ServerCordoned) {
			continue
		}
		if s.Health != state.HealthAvailable {
			rs = append(rs, Refusal{addr,
				fmt.Sprintf("cannot scale in: server %s (%s), which stays, is %s; DEALLOCATE would move databases onto a cluster missing a server", displayName(s, ""), s.ID, orUnknown(s.Health)),
				"bring it back (neo4jctl healthcheck shows why it is down) or, if it is lost for good, remove it first; then plan again"})
		}
	}
	if dr := b.deallocDryRun; dr != nil && dr.Refused != "" {
		rs = append(rs, Refusal{addr,
			fmt.Sprintf("Neo4j refuses DRYRUN DEALLOCATE DATABASES FROM SERVERS %s: %s", quoteIDs(dr.ServerIDs), dr.Refused),
			"Neo4j refuses deallocation while a hosted database is offline, while a server holds a database's only primary, or while a quorum of a database's primaries is cordoned (Operations Manual, clustering/servers, \"Deallocating databases from a server\"); fix that and plan again"})
	}
	if dr := b.deallocDryRun; dr != nil && dr.Error != "" {
		b.warn("DRYRUN DEALLOCATE DATABASES FROM SERVERS %s could not be run at plan time (%s); apply runs it before DEALLOCATE and stops if Neo4j refuses.", quoteIDs(dr.ServerIDs), dr.Error)
	}
	b.scaleInGlobal = rs
	b.p.Refusals = append(b.p.Refusals, rs...)
	return rs
}

func quoteIDs(ids []string) string {
	q := make([]string, len(ids))
	for i, id := range ids {
		q[i] = "'" + id + "'"
	}
	return strings.Join(q, ", ")
}

// retireAll plans the one scale-in sequence of the plan, in the order of
// the Operations Manual (clustering/servers, "Removing a server from the
// cluster"; NEO4J.md "Scale in"): CORDON every outgoing server, one
// DEALLOCATE DATABASES FROM SERVERS naming all of them, then per server
// wait until it is Deallocated and DROP SERVER. The pools whose servers
// leave continue (replicas down, StatefulSet deleted) only after it.
func (b *builder) retireAll() {
	if len(b.retiring) == 0 {
		return
	}
	// The scale-in and what waits for it (replicas down, a StatefulSet
	// deleted, and the rest of those pools' sequences) are one sequence:
	// --target and --exclude keep or drop it whole, so no server is
	// dropped while its Pod stays, nor a Pod removed with its server.
	seq := "scale-in"
	if len(b.afterRetire) > 0 {
		seq = b.afterRetire[0].seq
	}
	merge := map[string]bool{}
	for _, pc := range b.afterRetire {
		merge[pc.seq] = true
		pc.seq = seq
	}
	for _, dr := range b.drafts {
		if merge[dr.Sequence] {
			dr.Sequence = seq
		}
	}
	c := &chain{b: b, key: "", seq: seq}
	type leaving struct {
		retiree
		s   state.Server
		srv func(from, to string) *ServerStep
	}
	var all, dealloc []leaving
	for _, r := range b.retiring {
		s := b.byPod[r.sts][r.ord]
		pod := podName(r.sts, r.ord)
		l := leaving{retiree: r, s: s}
		l.srv = func(from, to string) *ServerStep {
			return &ServerStep{ServerID: s.ID, PodAddress: b.podAddress(r.sts, r.ord), StatefulSet: r.sts, Ordinal: r.ord,
				Name: displayName(s, pod), FromState: from, ToState: to}
		}
		all = append(all, l)
		if s.State == state.ServerEnabled || s.State == state.ServerCordoned {
			dealloc = append(dealloc, l)
		}
	}
	if len(dealloc) > 0 {
		ids := make([]string, len(dealloc))
		for i, l := range dealloc {
			ids[i] = l.s.ID
		}
		cordon, why := b.cordonable(ids)
		var uncordoned []string
		for _, l := range dealloc {
			switch {
			case l.s.State != state.ServerEnabled:
			case cordon[l.s.ID]:
				c.add(Step{Address: serverAddress(l.s.ID), Action: ActionNeo4j, Kind: KindCordon,
					Reason: l.why + ": no new databases are allocated to it while it leaves",
					Server: l.srv(state.ServerEnabled, state.ServerCordoned)})
			default:
				uncordoned = append(uncordoned, displayName(l.s, podName(l.sts, l.ord)))
			}
		}
		st := Step{Address: serverAddress(strings.Join(sorted(ids), ",")), Action: ActionNeo4j, Kind: KindDeallocate, Irreversible: true,
			Reason: dealloc[0].why + ": move their databases to the remaining servers"}
		for _, l := range dealloc {
			if lost(l.s) {
				// Say plainly what data safety rests on.
				st.Reason += fmt.Sprintf("; %s is %s (lost): its allocations are rebuilt from the copies on the remaining servers, which are then the only copies", displayName(l.s, podName(l.sts, l.ord)), orUnknown(l.s.Health))
			}
		}
		if len(uncordoned) > 0 {
			st.Reason += "; " + strings.Join(uncordoned, ", ") + " not cordoned first: " + why
		}
		for _, l := range dealloc {
			st.Servers = append(st.Servers, *l.srv(l.s.State, state.ServerDeallocating))
		}
		if dr := b.deallocDryRun; dr != nil && dr.Refused == "" && dr.Error == "" {
			st.DryRun = &DryRun{Statement: "DRYRUN DEALLOCATE DATABASES FROM SERVERS " + quoteIDs(dr.ServerIDs), Moves: append([]state.Move{}, dr.Moves...)}
		}
		c.add(st)
	}
	for _, l := range all {
		a := serverAddress(l.s.ID)
		if l.s.State != state.ServerDeallocated {
			c.add(Step{Address: a, Action: ActionRead, Kind: KindWaitDeallocated,
				Reason: "wait until it hosts only system", Server: l.srv(state.ServerDeallocating, state.ServerDeallocated)})
		}
		c.add(Step{Address: a, Action: ActionNeo4j, Kind: KindDropServer, Irreversible: true,
			Reason: l.why + ": remove it from the cluster (its id can never rejoin)", Server: l.srv(state.ServerDeallocated, state.ServerDropped)})
	}
	for _, pc := range b.afterRetire {
		if pc.head != nil {
			pc.head.deps = append(pc.head.deps, c.last)
		}
	}
}

// cordonable returns the outgoing servers (of ids, in order) that may be
// cordoned before DEALLOCATE: Neo4j refuses deallocation "if a quorum of
// servers hosting the database in primary mode are cordoned" (Operations
// Manual, clustering/servers, "Deallocating databases from a server").
// Servers are taken in order while no database would have a quorum of its
// primaries cordoned, counting servers an operator cordoned; the reason
// names the first database that stopped the rest.
func (b *builder) cordonable(ids []string) (map[string]bool, string) {
	cordoned := map[string]bool{}
	for id, s := range b.n.Servers {
		if s.State == state.ServerCordoned {
			cordoned[id] = true
		}
	}
	ok := map[string]bool{}
	why := ""
	for _, id := range ids {
		cordoned[id] = true
		if name, n, of := b.quorumCordoned(cordoned); name != "" {
			delete(cordoned, id)
			if why == "" {
				why = fmt.Sprintf("cordoning it too would cordon %d of the %d primaries of database %s, a quorum, and Neo4j refuses DEALLOCATE while a quorum of a database's primaries is cordoned", n, of, name)
			}
			continue
		}
		ok[id] = true
	}
	return ok, why
}

// quorumCordoned returns a database a quorum of whose primaries is on
// cordoned servers.
func (b *builder) quorumCordoned(cordoned map[string]bool) (string, int, int) {
	for _, name := range b.ndbs {
		db := b.dbs[name]
		n := 0
		for _, p := range db.Primaries {
			if cordoned[p] {
				n++
			}
		}
		if len(db.Primaries) > 0 && n >= len(db.Primaries)/2+1 {
			return name, n, len(db.Primaries)
		}
	}
	return "", 0, 0
}
