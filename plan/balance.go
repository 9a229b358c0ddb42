package plan

import (
	"fmt"

	"github.com/neo4jctl/neo4jctl/internal/state"
)

// REALLOCATE DATABASES "on a large cluster with many databases has the
// potential to move a lot of allocations at once, which might stress the
// cluster. Consider starting with more limited reallocations, such as
// dbms.cluster.reallocateNumberOfDatabases with a small number, and let the
// databases complete their reallocation before calling it again, until no
// more reallocations are necessary" (Operations Manual 5.26,
// clustering/databases.adoc § Reallocate databases using a Cypher
// command). The manual gives no number; neo4jctl's are these.
const (
	// ReallocateThreshold: more databases to move than this are moved in
	// rounds.
	ReallocateThreshold = 10
	// ReallocateBatch is how many databases each round moves.
	ReallocateBatch = 5
)

// databasesToMove counts the databases a reallocation would move: the
// distinct databases of Neo4j's DRYRUN answer when there is one, else
// (before a scale-out, when the new servers do not exist yet) every user
// database, since any of them may move onto them.
func (b *builder) databasesToMove(dry *DryRun) int {
	seen := map[string]bool{}
	if dry != nil {
		for _, m := range dry.Moves {
			seen[m.Database] = true
		}
		return len(seen)
	}
	for _, name := range b.ndbs {
		if name != "system" && b.dbs[name].Type != "composite" {
			seen[name] = true
		}
	}
	return len(seen)
}

// balance ends a scale-out the way the Operations Manual says new servers
// get databases (clustering/servers, "Hosting databases on added servers":
// a newly enabled server hosts nothing until databases are created, grown,
// moved off a deallocating server, or rebalanced with REALLOCATE
// DATABASES): after every joining server is Enabled, REALLOCATE DATABASES,
// then wait until every database is online with its requested counts.
//
// A plan in which no server joins plans a REALLOCATE only when an Enabled
// server hosts nothing but system and Neo4j's DRYRUN REALLOCATE (asked at
// plan time) would move something — the end of a scale-out an earlier
// apply left before its REALLOCATE. It returns the last step, or nil.
func (b *builder) balance() *draft {
	if !b.enterprise || b.fresh || b.opts.SkipNeo4j || len(b.retiring) > 0 {
		// A scale-in moves databases itself (DEALLOCATE).
		return nil
	}
	var deps []*draft
	var dry *DryRun
	reason := "spread the databases over the servers the scale-out enabled"
	if len(b.joined) > 0 {
		for _, c := range b.joined {
			deps = append(deps, c.last)
		}
	} else {
		if !b.neoKnown || !b.idleServer() {
			return nil
		}
		var answer *state.DryRun
		for i, dr := range b.n.DryRuns {
			if dr.Kind == state.DryRunReallocate {
				answer = &b.n.DryRuns[i]
			}
		}
		if answer == nil {
			b.p.DryRunsWanted = append(b.p.DryRunsWanted, state.DryRun{Kind: state.DryRunReallocate})
			return nil
		}
		if answer.Error != "" || answer.Refused != "" || len(answer.Moves) == 0 {
			return nil
		}
		dry = &DryRun{Statement: "DRYRUN REALLOCATE DATABASES", Moves: append([]state.Move{}, answer.Moves...)}
		reason = "an Enabled server hosts no database and Neo4j would move some onto it (a scale-out left before its REALLOCATE)"
	}
	st := Step{Address: "neo4j:databases", Action: ActionNeo4j, Kind: KindReallocate, Reason: reason, DryRun: dry}
	if n := b.databasesToMove(dry); n > ReallocateThreshold {
		batch := int32(ReallocateBatch)
		st.Batch = &batch
		st.Reason += fmt.Sprintf("; %d databases to move is more than %d, so in rounds of %d with dbms.cluster.reallocateNumberOfDatabases, each waited for (clustering/databases.adoc § Reallocate databases using a Cypher command)", n, ReallocateThreshold, ReallocateBatch)
	}
	re := b.add(&draft{Step: st, stage: stageServers, sortKey: "~", deps: deps})
	re.Sequence = "balance"
	if len(b.joined) > 0 {
		re.Sequence = b.joined[0].seq
	}
	wait := b.add(&draft{Step: Step{Address: "neo4j:databases", Action: ActionRead, Kind: KindWaitDatabasesOnline,
		Reason: "wait until the moved allocations are online"}, stage: stageServers, sortKey: "~", deps: []*draft{re}})
	wait.Sequence = re.Sequence
	return wait
}

// idleServer reports whether an Enabled, Available server of the cluster
// hosts nothing but system while user databases exist.
func (b *builder) idleServer() bool {
	user := false
	for _, name := range b.ndbs {
		if name != "system" && b.dbs[name].Type != "composite" {
			user = true
		}
	}
	if !user {
		return false
	}
	for _, sts := range sortedKeys(b.byPod) {
		for _, s := range b.byPod[sts] {
			if s.State == state.ServerEnabled && s.Health == state.HealthAvailable && onlySystemHosted(s.Hosting) {
				return true
			}
		}
	}
	return false
}

func onlySystemHosted(hosting []string) bool {
	for _, h := range hosting {
		if h != "system" {
			return false
		}
	}
	return true
}
