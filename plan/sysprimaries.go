package plan

import (
	"fmt"
	"sort"
	"strings"
)

// The system database's primaries are whatever servers SHOW DATABASES
// reports hosting system with role primary: each server decides its mode
// from its own configuration when it starts
// (server.cluster.system_database_mode, configuration-settings.adoc), so
// the live roles, not spec.systemPrimaries or the server count, say what a
// scale-in removes. "A database remains available for writes as long as
// a simple majority of its primary allocations are functioning"
// (clustering/introduction.adoc, the introduction's "Fault tolerance"),
// and the system database is no exception (§ Primaries and secondaries
// for the system database: "A single system primary provides no fault
// tolerance for writes to the system database").

// systemPrimaryRefusals refuses a scale-in whose leaving servers (every
// pool's, b.leaving) include a majority of the live system primaries, or
// all of them: the servers left could not elect a system leader, and
// every administration statement (DROP SERVER of the rest included) needs
// one.
func (b *builder) systemPrimaryRefusals(addr string) []Refusal {
	sys := b.dbs["system"]
	if sys == nil || len(sys.Primaries) == 0 {
		return nil
	}
	var leaving []string
	for _, id := range sys.Primaries {
		if b.leaving[id] {
			leaving = append(leaving, b.serverLabel(id))
		}
	}
	n := len(sys.Primaries)
	if len(leaving) == 0 || len(leaving) < n/2+1 {
		return nil
	}
	sort.Strings(leaving)
	return []Refusal{{addr,
		fmt.Sprintf("cannot scale in: %d of the system database's %d primaries (SHOW DATABASES: %s) would leave, and the %d left are no majority, so system would have no leader",
			len(leaving), n, strings.Join(leaving, ", "), n-len(leaving)),
		"scale in fewer servers at a time, keeping a majority of the system primaries, or give the servers that stay system primaries first (spec.systemPrimaries; they restart as PRIMARY), then plan again"}}
}

// serverLabel names a server for a message: its name and Pod.
func (b *builder) serverLabel(id string) string {
	for sts, m := range b.byPod {
		for ord, s := range m {
			if s.ID == id {
				return displayName(s, podName(sts, ord))
			}
		}
	}
	if s, ok := b.n.Servers[id]; ok {
		return displayName(s, "")
	}
	return id
}

// systemModeWarnings warns when a rolling restart brings servers that are
// system primaries now back as system secondaries: neo4jctl renders
// PRIMARY for the main pool's first systemPrimaries ordinals and
// SECONDARY for every other server, and a server takes its mode when it
// starts. A cluster made by an earlier neo4jctl (or with a larger
// spec.systemPrimaries) changes the system database's primaries one
// restart at a time; the plan says which and how many remain.
func (b *builder) systemModeWarnings(rolled map[string]bool) {
	sys := b.dbs["system"]
	if sys == nil || len(sys.Primaries) == 0 || len(b.d.Pools) == 0 {
		return
	}
	mainSts := ""
	var mainServers int32
	for _, pl := range b.d.Pools {
		if pl.Name == "" {
			mainSts, mainServers = pl.StatefulSet, pl.Replicas
		}
	}
	n := b.d.SystemPrimaries
	if n <= 0 || n > mainServers {
		n = min(mainServers, 3)
	}
	primary := map[string]bool{}
	for _, id := range sys.Primaries {
		primary[id] = true
	}
	var demoted []string
	for _, sts := range sortedKeys(b.byPod) {
		if !rolled[sts] {
			continue
		}
		for _, ord := range sortedInts(b.byPod[sts]) {
			s := b.byPod[sts][ord]
			if b.leaving[s.ID] || !primary[s.ID] {
				continue
			}
			if sts != mainSts || ord >= int(n) {
				demoted = append(demoted, podName(sts, ord))
			}
		}
	}
	if len(demoted) == 0 {
		return
	}
	left := len(sys.Primaries) - len(demoted)
	b.warn("the rolling restart brings %s back as system secondaries (neo4jctl renders PRIMARY only for the main pool's first %d servers, and a server takes its system mode when it starts): the system database goes from %d primaries to %d, one restart at a time.",
		strings.Join(demoted, ", "), n, len(sys.Primaries), max(left, 0))
}
