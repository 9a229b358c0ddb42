package apply

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/neo4jctl/neo4jctl/internal/neo4j"
	"github.com/neo4jctl/neo4jctl/internal/state"
)

// known is what SHOW SERVERS and SHOW DATABASES said after a write whose
// answer never came.
type known struct {
	servers map[string]state.Server
	dbs     []state.DatabaseAllocation
}

// effectCheck says whether a step's effect is in the re-read state and,
// when it is not, what the re-read found about what the step acts on.
type effectCheck func(k known) (took bool, found string)

// outcomeUnknown reports whether a write that failed with err may still
// have taken effect: its answer never came (the write deadline, a lost
// connection, Ctrl-C) or came as something other than Neo4j's refusal.
// A refusal, wrong credentials, Community and a non-leader change nothing.
func outcomeUnknown(err error) bool {
	if err == nil {
		return false
	}
	switch neo4j.ClassOf(err) {
	case neo4j.KindRefused, neo4j.KindAuth, neo4j.KindEnterpriseRequired, neo4j.KindNotLeader:
		return false
	}
	return true
}

// settle decides a write of unknown outcome from the state, not from a
// guess. A write past its deadline is not aborted on the server (Operations
// Manual, database-administration/standard-databases/wait-options.adoc,
// NOTE: an interrupted command "will continue to execute in the background
// and will not be aborted"), so before anything else is decided SHOW
// SERVERS and SHOW DATABASES are read again, with a context of their own
// (after Ctrl-C apply must still find out before it stops). A step whose
// effect is there is done; otherwise it fails saying what was found, and
// that the statement may still take effect.
func (e *Executor) settle(ctx context.Context, stmt string, sendErr error, check effectCheck) (outcome, error) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rereadTimeout)
	defer cancel()
	var k known
	err := e.read(rctx, "SHOW SERVERS", func(ctx context.Context, c Neo4j) (err error) {
		k.servers, err = c.Servers(ctx)
		return err
	})
	if err == nil {
		err = e.read(rctx, "SHOW DATABASES", func(ctx context.Context, c Neo4j) (err error) {
			k.dbs, err = c.Databases(ctx)
			return err
		})
	}
	if err != nil {
		return outcome{wrote: true}, fmt.Errorf("%w; and reading SHOW SERVERS and SHOW DATABASES again to learn whether %s took effect failed too: %v; nothing is known of its outcome: run neo4jctl plan to see the state before applying again", sendErr, stmt, err)
	}
	took, found := check(k)
	if took {
		return outcome{wrote: true, note: fmt.Sprintf("%s: %s; SHOW SERVERS and SHOW DATABASES read again show it took effect (%s)", stmt, reason(sendErr), found)}, ctx.Err()
	}
	return outcome{wrote: true}, fmt.Errorf("%w; SHOW SERVERS and SHOW DATABASES read again: %s (%s); %s has not taken effect yet and may still take effect: run neo4jctl plan to see the state before applying again", sendErr, found, summarize(k), stmt)
}

// reason is the short form of why a write's answer never came.
func reason(err error) string {
	switch {
	case neo4j.IsWriteTimeout(err):
		return "no answer within the write deadline"
	case errors.Is(err, context.Canceled):
		return "interrupted before the answer"
	case neo4j.IsUnreachable(err):
		return "the connection was lost before the answer"
	}
	return "the answer was an error (" + err.Error() + ")"
}

// summarize is the whole known state in one line: servers by state and
// health, databases by status.
func summarize(k known) string {
	byState := map[string]int{}
	for _, s := range k.servers {
		byState[s.State+"/"+orDash(s.Health)]++
	}
	status := map[string]map[string]bool{}
	for _, d := range k.dbs {
		if status[d.Name] == nil {
			status[d.Name] = map[string]bool{}
		}
		status[d.Name][orDash(d.CurrentStatus)] = true
	}
	return fmt.Sprintf("servers %s; databases %s", countList(byState), dbList(status))
}

func countList(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d %s", m[k], k)
	}
	return strings.Join(parts, ", ")
}

func dbList(m map[string]map[string]bool) string {
	if len(m) == 0 {
		return "none"
	}
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, n := range names {
		sts := make([]string, 0, len(m[n]))
		for s := range m[n] {
			sts = append(sts, s)
		}
		sort.Strings(sts)
		parts[i] = n + " " + strings.Join(sts, "/")
	}
	return strings.Join(parts, ", ")
}

// describeServer is one server as the re-read found it.
func describeServer(k known, id string) string {
	s, ok := k.servers[id]
	if !ok {
		return "server " + id + " is not in SHOW SERVERS"
	}
	d := fmt.Sprintf("server %s is %s, %s", id, s.State, orDash(s.Health))
	if s.Name != "" && s.Name != id {
		d = fmt.Sprintf("server %s (%s) is %s, %s", id, s.Name, s.State, orDash(s.Health))
	}
	if len(s.RequestedHosting) > 0 {
		d += ", asked to host " + strings.Join(s.RequestedHosting, ", ")
	}
	return d
}

// describeDatabase is one database as the re-read found it.
func describeDatabase(k known, name string) string {
	var rows []string
	var d state.DatabaseAllocation
	for _, a := range k.dbs {
		if a.Name == name {
			d = a
			rows = append(rows, orDash(a.CurrentStatus)+" on "+orDash(a.ServerID))
		}
	}
	if len(rows) == 0 {
		return "database " + name + " is not in SHOW DATABASES"
	}
	return fmt.Sprintf("database %s: %s, %d primaries and %d secondaries requested, %s", name, d.Access, d.RequestedPrimaries, d.RequestedSecondaries, strings.Join(rows, ", "))
}

// --- the effect of each write ---

func serverIn(ids []string, ok func(state.Server) bool) effectCheck {
	return func(k known) (bool, string) {
		took := true
		found := make([]string, 0, len(ids))
		for _, id := range ids {
			s, present := k.servers[id]
			if !present || !ok(s) {
				took = false
			}
			found = append(found, describeServer(k, id))
		}
		return took, strings.Join(found, "; ")
	}
}

func enabledWith(id string, opts neo4j.ServerOptions) effectCheck {
	return serverIn([]string{id}, func(s state.Server) bool {
		return s.State == state.ServerEnabled && equalOptions(s, opts)
	})
}

func optionsAre(id string, opts neo4j.ServerOptions) effectCheck {
	return serverIn([]string{id}, func(s state.Server) bool { return equalOptions(s, opts) })
}

func namedAs(id, name string) effectCheck {
	return serverIn([]string{id}, func(s state.Server) bool { return s.Name == name })
}

func cordoned(id string) effectCheck {
	return serverIn([]string{id}, func(s state.Server) bool { return s.State == state.ServerCordoned })
}

func deallocating(ids []string) effectCheck {
	return serverIn(ids, func(s state.Server) bool { return deallocatingState(s.State) })
}

// dropped: gone from SHOW SERVERS, or listed Dropped.
func dropped(id string) effectCheck {
	return func(k known) (bool, string) {
		s, ok := k.servers[id]
		if !ok || s.State == state.ServerDropped {
			return true, "server " + id + " is dropped"
		}
		return false, describeServer(k, id)
	}
}

// moved: every move of the DRYRUN is in the servers' requested hosting
// (the allocation asked of the new server, no longer of the old one).
func moved(moves []neo4j.Reallocation) effectCheck {
	return func(k known) (bool, string) {
		took := true
		var found []string
		for _, m := range moves {
			to, from := k.servers[m.ToServerID], k.servers[m.FromServerID]
			ok := contains(to.RequestedHosting, m.Database) && !contains(from.RequestedHosting, m.Database)
			if !ok {
				took = false
			}
			found = append(found, fmt.Sprintf("%s asked of %s: %v, of %s: %v", m.Database, m.ToServerID, contains(to.RequestedHosting, m.Database), m.FromServerID, contains(from.RequestedHosting, m.Database)))
		}
		return took, strings.Join(found, "; ")
	}
}

func databaseExists(name string) effectCheck {
	return func(k known) (bool, string) { return hasDatabase(k.dbs, name), describeDatabase(k, name) }
}

func topologyIs(name string, t neo4j.Topology) effectCheck {
	return databaseWhere(name, func(d state.DatabaseAllocation) bool {
		return d.RequestedPrimaries == int64(t.Primaries) && d.RequestedSecondaries == int64(t.Secondaries)
	})
}

func accessIs(name string, readOnly bool) effectCheck {
	want := "read-write"
	if readOnly {
		want = "read-only"
	}
	return databaseWhere(name, func(d state.DatabaseAllocation) bool { return d.Access == want })
}

func databaseWhere(name string, ok func(state.DatabaseAllocation) bool) effectCheck {
	return func(k known) (bool, string) {
		rows, good := 0, 0
		for _, d := range k.dbs {
			if d.Name == name {
				rows++
				if ok(d) {
					good++
				}
			}
		}
		return rows > 0 && rows == good, describeDatabase(k, name)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
