package healthcheck

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/neo4jctl/neo4jctl/internal/state"
)

// The gate of a rolling restart. apply restarts one Pod at a time and,
// between two Pods, asks two questions of one observation of the Neo4j
// plane; the answers come from the same predicates the checks of this
// package use (ServerHealthy for neo4j.servers, AllocationAsRequested for
// neo4j.databases.status, MemberFit for neo4j.statuscheck), so a roll and
// `neo4jctl healthcheck` can never disagree on what "back" means.
//
// The Operations Manual frames the second question for rolling upgrades
// (clustering/monitoring/endpoints.adoc § Status endpoints): "that a primary
// is safe to shutdown means that a majority of the *other* primaries are
// healthy, caught up, and have recently heard from that database's leader",
// for every database (§ Combined status endpoints).

// RollInput is one observation of the Neo4j plane taken between two Pods of
// a rolling restart.
type RollInput struct {
	Servers   map[string]state.Server
	Databases []state.DatabaseAllocation
	// StatusCheck is nil where the version has no dbms.cluster.statusCheck
	// (before 5.24).
	StatusCheck []state.StatusCheck
}

// ServerHealthy is a member in service: Enabled and Available in SHOW
// SERVERS (Operations Manual, clustering/monitoring/show-servers-monitoring).
func ServerHealthy(s state.Server) bool {
	return s.State == state.ServerEnabled && s.Health == state.HealthAvailable
}

// AllocationAsRequested is one row of SHOW DATABASES whose currentStatus is
// the requestedStatus (Operations Manual,
// clustering/monitoring/show-databases-monitoring).
func AllocationAsRequested(a state.DatabaseAllocation) bool {
	return a.RequestedStatus == a.CurrentStatus
}

// MemberFit is a statusCheck member that takes part in replication and
// applies what it replicates (Operations Manual,
// clustering/monitoring/status-check § Possible values of memberStatus:
// APPLYING "can replicate and is actively applying transactions";
// REPLICATING "can participate in replicating but cannot apply", e.g.
// while its database starts; UNAVAILABLE is "either too far behind the
// leader or unreachable"). Only APPLYING is fit: a value the manual does
// not list (a Raft role such as LEADER or FOLLOWER is not one) holds a
// roll rather than letting it proceed on a guess. It reads memberStatus,
// not replicationSuccessful: that column is the answering server's own
// result, "the same column-wise" (§ Possible values of
// replicationSuccessful), so it says nothing of one member.
func MemberFit(r state.StatusCheck) bool {
	return r.MemberStatus == "APPLYING"
}

// ServerBack says why the server id is not yet back after its restart, or
// nothing when it is: Enabled and Available, hosting every database it is
// asked to host, every allocation on it at its requested status, and every
// statusCheck row of it fit (MemberFit). An empty id is a server that is not in
// SHOW SERVERS at all.
func ServerBack(in RollInput, id string) []string {
	s, ok := in.Servers[id]
	if id == "" || !ok {
		return []string{"not in SHOW SERVERS"}
	}
	var why []string
	if !ServerHealthy(s) {
		why = append(why, fmt.Sprintf("%s, %s", s.State, orNone(s.Health)))
	}
	var missing []string
	for _, db := range s.RequestedHosting {
		if !slices.Contains(s.Hosting, db) {
			missing = append(missing, db)
		}
	}
	if len(missing) > 0 {
		why = append(why, "not yet hosting "+strings.Join(missing, ", "))
	}
	for _, a := range in.Databases {
		if a.ServerID == id && !AllocationAsRequested(a) {
			why = append(why, fmt.Sprintf("%s %s (requested %s)", a.Name, orNone(a.CurrentStatus), a.RequestedStatus))
		}
	}
	for _, r := range in.StatusCheck {
		if r.ServerID == id && !MemberFit(r) {
			why = append(why, fmt.Sprintf("%s cannot replicate (%s)", r.Database, orNone(r.MemberStatus)))
		}
	}
	return why
}

// CanLose says why the cluster cannot lose the server id for a restart
// now, or nothing when it can: every other member of the cluster is
// Available, and every database keeps a majority of its primaries online
// on the other servers.
//
// A database with one or two primaries has no majority that survives the
// loss of any primary: no order of restarts keeps it writable, so it does
// not hold the roll (notes says so); waiting would never end.
func CanLose(in RollInput, id string) (why, notes []string) {
	for _, oid := range sortedServerIDs(in.Servers) {
		s := in.Servers[oid]
		if oid == id || s.State == state.ServerDropped || s.State == state.ServerDeallocated {
			continue
		}
		if s.Health != state.HealthAvailable {
			why = append(why, fmt.Sprintf("server %s is %s", s.Name, orNone(s.Health)))
		}
	}
	members := map[string]int{}
	for _, r := range in.StatusCheck {
		members[r.Database]++
	}
	names, by := allocsByDB(in.Databases)
	for _, name := range names {
		rows := by[name]
		if !slices.ContainsFunc(rows, func(a state.DatabaseAllocation) bool {
			return a.RequestedStatus == "online" && a.Type != "composite" && a.Type != "alias"
		}) {
			continue // stopped on purpose, or no store of its own
		}
		size, online, onIt := members[name], 0, false
		primaries := 0
		for _, a := range rows {
			if a.RequestedPrimaries > int64(size) {
				size = int(a.RequestedPrimaries)
			}
			if a.Role != "primary" {
				continue
			}
			primaries++
			if a.ServerID == id {
				onIt = true
				continue
			}
			if a.CurrentStatus == "online" && in.Servers[a.ServerID].Health == state.HealthAvailable {
				online++
			}
		}
		size = max(size, primaries)
		if size < 3 {
			if onIt {
				notes = append(notes, fmt.Sprintf("%s has %d %s: it cannot stay writable while %s restarts, whatever the order", name, size, plural(size, "primary", "primaries"), serverLabel(in, id)))
			}
			continue
		}
		if online*2 <= size {
			why = append(why, fmt.Sprintf("%s would keep %d of %d primaries online, not a majority", name, online, size))
		}
	}
	sort.Strings(notes)
	return why, notes
}

func serverLabel(in RollInput, id string) string {
	if s, ok := in.Servers[id]; ok && s.Name != "" {
		return s.Name
	}
	return id
}

func orNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
