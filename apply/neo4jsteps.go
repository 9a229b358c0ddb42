package apply

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/neo4jctl/neo4jctl/internal/neo4j"
	"github.com/neo4jctl/neo4jctl/internal/state"
	"github.com/neo4jctl/neo4jctl/plan"
)

// --- the Neo4j connection ---

// neo4jConn returns the open connection, opening one if needed.
func (e *Executor) neo4jConn(ctx context.Context) (Neo4j, error) {
	e.mu.Lock()
	c := e.conn
	e.mu.Unlock()
	if c != nil {
		return c, nil
	}
	if e.Neo4j == nil {
		return nil, errors.New("no Neo4j access configured (was --skip-neo4j given?)")
	}
	c, closeFn, err := e.Neo4j(ctx)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	e.conn, e.closeFn = c, closeFn
	e.mu.Unlock()
	return c, nil
}

// dropConn forgets a connection that failed at the transport level, so the
// next statement reconnects (port-forwards die with their Pod).
func (e *Executor) dropConn(err error) {
	if !neo4j.IsUnreachable(err) {
		return
	}
	e.closeNeo4j()
}

func (e *Executor) closeNeo4j() {
	e.mu.Lock()
	closeFn := e.closeFn
	e.conn, e.closeFn = nil, nil
	e.mu.Unlock()
	if closeFn != nil {
		closeFn()
	}
}

// neo4jWrite runs an idempotent statement (the client retries it), opening
// the connection first; a connection that cannot be opened for a reason
// retrying can fix is retried like a statement, and reported. A failure
// whose outcome is unknown (the write deadline above all: the retries end
// there) is settled by reading the state again (settle), with check saying
// what the statement's effect looks like.
func (e *Executor) neo4jWrite(ctx context.Context, stmt string, check effectCheck, f func(Neo4j) error) (outcome, error) {
	c, err := e.connectRetrying(ctx)
	if err != nil {
		return outcome{}, err
	}
	err = f(c)
	e.dropConn(err)
	if outcomeUnknown(err) {
		return e.settle(ctx, stmt, err, check)
	}
	return outcome{wrote: true}, err
}

// connectRetrying opens the connection, retrying unreachable and transient
// failures for up to a minute. A wrong password fails at once: it is wrong
// on every attempt, and a retry storm only locks the account.
func (e *Executor) connectRetrying(ctx context.Context) (Neo4j, error) {
	delay := e.Options.PollInterval
	deadline := e.Options.Now().Add(connectBudget)
	for attempt := 1; ; attempt++ {
		c, err := e.neo4jConn(ctx)
		if err == nil {
			return c, nil
		}
		if !neo4j.Retryable(err) || ctx.Err() != nil || e.Options.Now().After(deadline) {
			return nil, fmt.Errorf("connect to Neo4j: %w", err)
		}
		e.hook().StepRetry(e.currentStep(), "connect to Neo4j", attempt, err)
		if err := sleep(ctx, delay); err != nil {
			return nil, err
		}
		delay = min(delay*2, 5*e.Options.PollInterval)
	}
}

// --- reading the state ---

// findServer locates the server a step acts on: by id, by the id a
// wait-server-free step resolved, or by the Pod's address.
func (e *Executor) findServer(servers map[string]state.Server, ss *plan.ServerStep) (state.Server, bool) {
	if ss == nil {
		return state.Server{}, false
	}
	id := ss.ServerID
	if id == "" && ss.PendingAddress != "" {
		e.mu.Lock()
		id = e.resolved[ss.PendingAddress]
		e.mu.Unlock()
	}
	if id != "" {
		s, ok := servers[id]
		if ok && s.ID == "" {
			s.ID = id
		}
		return s, ok
	}
	return serverAtPod(servers, ss)
}

// serverAtPod finds the live server whose advertised address is the Pod's.
// Dropped and deallocated rows of an earlier incarnation of the Pod never
// match: a new server for that Pod must get a new id.
func serverAtPod(servers map[string]state.Server, ss *plan.ServerStep) (state.Server, bool) {
	ids := make([]string, 0, len(servers))
	for id := range servers {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		s := servers[id]
		switch s.State {
		case state.ServerDropped, state.ServerDeallocated, state.ServerDeallocating:
			continue
		}
		if matchesPod(s.Address, ss) {
			if s.ID == "" {
				s.ID = id
			}
			return s, true
		}
	}
	return state.Server{}, false
}

// retiredAtPod finds a Dropped, Deallocated or Deallocating server at the
// Pod's address: the identity a Pod brings back on a retained volume.
func retiredAtPod(servers map[string]state.Server, ss *plan.ServerStep) (state.Server, bool) {
	for _, id := range sortedIDs(servers) {
		s := servers[id]
		switch s.State {
		case state.ServerDropped, state.ServerDeallocated, state.ServerDeallocating:
			if matchesPod(s.Address, ss) {
				if s.ID == "" {
					s.ID = id
				}
				return s, true
			}
		}
	}
	return state.Server{}, false
}

func sortedIDs(servers map[string]state.Server) []string {
	ids := make([]string, 0, len(servers))
	for id := range servers {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

func matchesPod(address string, ss *plan.ServerStep) bool {
	host := normHost(address)
	if host == "" {
		return false
	}
	if ss.PodAddress != "" {
		return host == normHost(ss.PodAddress)
	}
	pod := ss.Name
	if ss.StatefulSet != "" {
		pod = ss.StatefulSet + "-" + strconv.Itoa(ss.Ordinal)
	}
	label, _, _ := strings.Cut(host, ".")
	return label == pod
}

func normHost(addr string) string {
	addr = strings.ToLower(strings.TrimSpace(addr))
	if i := strings.LastIndex(addr, ":"); i >= 0 {
		if _, err := strconv.Atoi(addr[i+1:]); err == nil {
			addr = addr[:i]
		}
	}
	return strings.TrimSuffix(addr, ".")
}

func deallocatingState(st string) bool {
	return st == state.ServerDeallocating || st == state.ServerDeallocated
}

func onlySystem(hosting []string) bool {
	for _, h := range hosting {
		if h != "system" {
			return false
		}
	}
	return true
}

// readTimeout bounds one read of SHOW SERVERS or SHOW DATABASES. A
// port-forward whose Pod was replaced (a rolling update restarts the Pod the
// connection runs through) can leave a read hanging with no error at all;
// the read is abandoned, the connection closed, and the wait reads again
// through a new one.
const readTimeout = 10 * time.Second

// read runs f on the current connection (opening one if needed) within
// readTimeout.
func (e *Executor) read(ctx context.Context, op string, f func(ctx context.Context, c Neo4j) error) error {
	c, err := e.neo4jConn(ctx)
	if err != nil {
		return err
	}
	rctx, cancel := context.WithTimeout(ctx, readTimeout)
	defer cancel()
	err = f(rctx, c)
	if err != nil && ctx.Err() == nil && rctx.Err() != nil {
		e.closeNeo4j()
		return &neo4j.Error{Op: op, Kind: neo4j.KindUnreachable, Err: err,
			Message: fmt.Sprintf("no answer within %s; reconnecting", readTimeout)}
	}
	e.dropConn(err)
	return err
}

// readServers reads SHOW SERVERS.
func (e *Executor) readServers(ctx context.Context) (map[string]state.Server, error) {
	var s map[string]state.Server
	err := e.read(ctx, "SHOW SERVERS", func(ctx context.Context, c Neo4j) (err error) {
		s, err = c.Servers(ctx)
		return err
	})
	return s, err
}

func (e *Executor) serverFor(ctx context.Context, s plan.Step) (state.Server, error) {
	if _, err := e.connectRetrying(ctx); err != nil {
		return state.Server{}, err
	}
	servers, err := e.readServers(ctx)
	if err != nil {
		return state.Server{}, err
	}
	srv, ok := e.findServer(servers, s.Server)
	if !ok {
		return state.Server{}, fmt.Errorf("server %s is not in SHOW SERVERS", serverLabel(s.Server))
	}
	return srv, nil
}

func serverLabel(ss *plan.ServerStep) string {
	if ss == nil {
		return "(none)"
	}
	switch {
	case ss.Name != "" && ss.ServerID != "":
		return ss.Name + " (" + ss.ServerID + ")"
	case ss.ServerID != "":
		return ss.ServerID
	case ss.Name != "":
		return ss.Name
	}
	return ss.PendingAddress
}

// --- server steps ---

// waitServerFree waits for the Pod to be Ready and for SHOW SERVERS to list
// a server at the Pod's address (Free, or Enabled for a bootstrap server),
// and records its serverId for the steps that name the pending address.
func (e *Executor) waitServerFree(ctx context.Context, s plan.Step) (outcome, error) {
	ss := s.Server
	if ss == nil {
		return outcome{}, errors.New("the step names no server")
	}
	pod := ss.StatefulSet + "-" + strconv.Itoa(ss.Ordinal)
	if ss.StatefulSet == "" {
		pod = ss.Name
	}
	ctx, cancel := context.WithTimeout(ctx, e.Options.StepTimeout)
	defer cancel()
	if pod != "" && e.namespace != "" {
		pr := e.startProgress(s, "Pod "+e.namespace+"/"+pod+" to be Ready")
		err := e.Kube.WaitPodReady(ctx, e.namespace, pod)
		pr.stop()
		if err = e.timeoutError(ctx, err, pr); err != nil {
			return outcome{}, err
		}
	}
	var found state.Server
	err := e.poll(ctx, s, "the server of "+pod+" in SHOW SERVERS", func(ctx context.Context) (bool, string, error) {
		servers, err := e.readServers(ctx)
		if err != nil {
			return false, "", err
		}
		srv, ok := serverAtPod(servers, ss)
		if !ok {
			if old, back := retiredAtPod(servers, ss); back {
				// The Pod came back on a volume kept from an earlier scale-in
				// (whenScaled: Retain): it carries a retired server's identity,
				// which can never rejoin. Waiting would only time out.
				return false, "", fmt.Errorf("%s came back as server %s, which is %s: its volume was kept from an earlier scale-in and holds a server identity that can never rejoin (Operations Manual, clustering/servers, \"Dropped state\"). Its databases were moved off before it was dropped: delete the Pod's claims (PVC data-%s, and logs-%s if there is one) so the Pod starts on a new volume, then run apply again", pod, old.ID, old.State, pod, pod)
			}
			return false, "", nil
		}
		found = srv
		return true, "", nil
	})
	if err != nil {
		return outcome{}, err
	}
	if ss.PendingAddress != "" {
		e.mu.Lock()
		e.resolved[ss.PendingAddress] = found.ID
		e.mu.Unlock()
	}
	return outcome{note: fmt.Sprintf("%s is server %s (%s)", pod, found.ID, found.State)}, nil
}

// enableServer sends ENABLE SERVER with the full options; a server that
// is already Enabled (bootstrap servers enable themselves) gets ALTER
// SERVER SET OPTIONS instead, and nothing when its options already match.
func (e *Executor) enableServer(ctx context.Context, s plan.Step) (outcome, error) {
	srv, err := e.serverFor(ctx, s)
	if err != nil {
		return outcome{}, err
	}
	opts := serverOptions(s.Server.Options)
	if srv.State == state.ServerEnabled {
		if equalOptions(srv, opts) {
			return outcome{unchanged: true, note: "already Enabled with these options"}, nil
		}
		return e.neo4jWrite(ctx, "ALTER SERVER", optionsAre(srv.ID, opts), func(c Neo4j) error { return c.AlterServerOptions(ctx, serverName(srv), opts) })
	}
	o, err := e.neo4jWrite(ctx, "ENABLE SERVER", enabledWith(srv.ID, opts), func(c Neo4j) error { return c.EnableServer(ctx, srv.ID, opts) })
	if o.note == "" {
		o.note = "server " + srv.ID
	}
	return o, err
}

func (e *Executor) alterServer(ctx context.Context, s plan.Step) (outcome, error) {
	srv, err := e.serverFor(ctx, s)
	if err != nil {
		return outcome{}, err
	}
	opts := serverOptions(s.Server.Options)
	if equalOptions(srv, opts) {
		return outcome{unchanged: true, note: "options already match"}, nil
	}
	return e.neo4jWrite(ctx, "ALTER SERVER", optionsAre(srv.ID, opts), func(c Neo4j) error { return c.AlterServerOptions(ctx, serverName(srv), opts) })
}

// renameServer sends RENAME SERVER '<id>' TO '<pod>'. Naming the server by
// its id makes a retry after a lost reply harmless. A name another server
// still holds (a dropped server whose process has not stopped yet: names
// are unique among existing servers, Operations Manual, clustering/servers,
// "Renaming a server") leaves the server named by its id, and says so.
func (e *Executor) renameServer(ctx context.Context, s plan.Step) (outcome, error) {
	srv, err := e.serverFor(ctx, s)
	if err != nil {
		return outcome{}, err
	}
	to := s.Server.Name
	if to == "" || srv.Name == to {
		return outcome{unchanged: true, note: "already named " + to}, nil
	}
	servers, err := e.readServers(ctx)
	if err != nil {
		return outcome{}, err
	}
	for id, other := range servers {
		if id != srv.ID && other.Name == to {
			return outcome{unchanged: true, note: fmt.Sprintf("not renamed: server %s (%s) still holds the name %s", id, other.State, to)}, nil
		}
	}
	return e.neo4jWrite(ctx, "RENAME SERVER", namedAs(srv.ID, to), func(c Neo4j) error { return c.RenameServer(ctx, srv.ID, to) })
}

// reallocate asks DRYRUN REALLOCATE DATABASES (read-only, retried) and
// reports what it would move; when it would move something, it sends
// REALLOCATE DATABASES once. After an error it does not resend: the state
// read again says whether the DRYRUN's moves were asked of the servers.
func (e *Executor) reallocate(ctx context.Context, s plan.Step) (outcome, error) {
	if s.Batch != nil {
		return e.reallocateInRounds(ctx, s)
	}
	c, err := e.connectRetrying(ctx)
	if err != nil {
		return outcome{}, err
	}
	moves, err := c.ReallocateDatabases(ctx, true)
	if err != nil {
		e.dropConn(err)
		return outcome{}, fmt.Errorf("DRYRUN REALLOCATE DATABASES (nothing was moved): %w", err)
	}
	if len(moves) == 0 {
		return outcome{unchanged: true, note: "DRYRUN REALLOCATE DATABASES: nothing to move"}, nil
	}
	note := "DRYRUN REALLOCATE DATABASES: " + describeMoves(moves)
	if _, err := c.ReallocateDatabases(ctx, false); err != nil {
		e.dropConn(err)
		if !outcomeUnknown(err) {
			return outcome{note: note}, err
		}
		o, err := e.settle(ctx, "REALLOCATE DATABASES", fmt.Errorf("%w (REALLOCATE is not resent)", err), moved(moves))
		o.note = strings.TrimPrefix(note+"; "+o.note, "; ")
		return o, err
	}
	return outcome{wrote: true, note: note}, nil
}

func describeMoves(moves []neo4j.Reallocation) string {
	parts := make([]string, 0, len(moves))
	for _, m := range moves {
		from, to := m.FromServerName, m.ToServerName
		if from == "" {
			from = m.FromServerID
		}
		if to == "" {
			to = m.ToServerID
		}
		parts = append(parts, fmt.Sprintf("%s (%s) %s → %s", m.Database, m.Mode, from, to))
	}
	return strings.Join(parts, "; ")
}

func (e *Executor) cordon(ctx context.Context, s plan.Step) (outcome, error) {
	srv, err := e.serverFor(ctx, s)
	if err != nil {
		return outcome{}, err
	}
	if srv.State == state.ServerCordoned {
		return outcome{unchanged: true, note: "already Cordoned"}, nil
	}
	return e.neo4jWrite(ctx, "CORDON", cordoned(srv.ID), func(c Neo4j) error { return c.CordonServer(ctx, srv.ID) })
}

// deallocate sends one DEALLOCATE DATABASES FROM SERVERS naming every
// server of the step that has not taken it yet. A plan without Neo4j's
// answer to the DRYRUN (a plan made where none could be asked) gets the
// DRYRUN first: a refusal stops the step before anything is written.
// DEALLOCATE is sent once; after any error (Ctrl-C included) SHOW SERVERS
// is re-read: servers now Deallocating took the statement, and the step
// succeeded whatever the reply said.
func (e *Executor) deallocate(ctx context.Context, s plan.Step) (outcome, error) {
	targets := s.Servers
	if len(targets) == 0 && s.Server != nil {
		targets = []plan.ServerStep{*s.Server}
	}
	if len(targets) == 0 {
		return outcome{}, errors.New("the step names no server")
	}
	if _, err := e.connectRetrying(ctx); err != nil {
		return outcome{}, err
	}
	servers, err := e.readServers(ctx)
	if err != nil {
		return outcome{}, err
	}
	var ids, done []string
	for i := range targets {
		srv, ok := e.findServer(servers, &targets[i])
		if !ok {
			return outcome{}, fmt.Errorf("server %s is not in SHOW SERVERS", serverLabel(&targets[i]))
		}
		switch srv.State {
		case state.ServerDeallocating, state.ServerDeallocated, state.ServerDropped:
			done = append(done, srv.ID+" "+srv.State)
		default:
			ids = append(ids, srv.ID)
		}
	}
	if len(ids) == 0 {
		return outcome{unchanged: true, note: "already " + strings.Join(done, ", ")}, nil
	}
	sort.Strings(ids) // the order of the plan's DRYRUN
	c, err := e.neo4jConn(ctx)
	if err != nil {
		return outcome{}, err
	}
	note := ""
	if s.DryRun == nil {
		moves, err := c.DeallocateServers(ctx, true, ids...)
		if err != nil {
			e.dropConn(err)
			return outcome{}, fmt.Errorf("DRYRUN DEALLOCATE (nothing was deallocated): %w", err)
		}
		note = fmt.Sprintf("DRYRUN: %d %s to move; ", len(moves), plural(len(moves), "allocation", "allocations"))
	}
	_, sendErr := c.DeallocateServers(ctx, false, ids...)
	if sendErr == nil {
		return outcome{wrote: true, note: note + "DEALLOCATE accepted for " + strings.Join(ids, ", ")}, nil
	}
	e.dropConn(sendErr)
	if !outcomeUnknown(sendErr) {
		// Neo4j answered: nothing happened.
		return outcome{}, sendErr
	}
	return e.settle(ctx, "DEALLOCATE DATABASES", sendErr, deallocating(ids))
}

// dropServer sends DROP SERVER once, then re-reads on error like deallocate.
func (e *Executor) dropServer(ctx context.Context, s plan.Step) (outcome, error) {
	if _, err := e.connectRetrying(ctx); err != nil {
		return outcome{}, err
	}
	servers, err := e.readServers(ctx)
	if err != nil {
		return outcome{}, err
	}
	srv, ok := e.findServer(servers, s.Server)
	if !ok || srv.State == state.ServerDropped {
		return outcome{unchanged: true, note: "already dropped"}, nil
	}
	c, err := e.neo4jConn(ctx)
	if err != nil {
		return outcome{}, err
	}
	sendErr := c.DropServer(ctx, srv.ID)
	if sendErr == nil {
		return outcome{wrote: true}, nil
	}
	e.dropConn(sendErr)
	if !outcomeUnknown(sendErr) {
		return outcome{}, sendErr
	}
	return e.settle(ctx, "DROP SERVER", sendErr, dropped(srv.ID))
}

// waitServer polls SHOW SERVERS until ok holds for the step's server.
func (e *Executor) waitServer(ctx context.Context, s plan.Step, what string, ok func(state.Server) bool) error {
	ctx, cancel := context.WithTimeout(ctx, e.Options.StepTimeout)
	defer cancel()
	label := serverLabel(s.Server)
	return e.poll(ctx, s, "server "+label+" to be "+what, func(ctx context.Context) (bool, string, error) {
		servers, err := e.readServers(ctx)
		if err != nil {
			return false, "", err
		}
		srv, found := e.findServer(servers, s.Server)
		if !found {
			if s.Kind == plan.KindWaitDeallocated {
				return true, "", nil // dropped by someone else: nothing left to wait for
			}
			return false, "not in SHOW SERVERS", nil
		}
		if ok(srv) {
			return true, "", nil
		}
		detail := srv.State + ", " + orDash(srv.Health)
		if s.Kind == plan.KindWaitDeallocated {
			detail = srv.State + ", hosting " + strings.Join(srv.Hosting, ", ")
		}
		return false, detail, nil
	})
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// --- database steps ---

// createDatabase sends CREATE DATABASE once (IF NOT EXISTS, so a rerun is
// harmless), re-reading SHOW DATABASES after an error.
func (e *Executor) createDatabase(ctx context.Context, s plan.Step) (outcome, error) {
	if s.Database == nil {
		return outcome{}, errors.New("the step names no database")
	}
	name := s.Database.Name
	c, err := e.connectRetrying(ctx)
	if err != nil {
		return outcome{}, err
	}
	dbs, err := c.Databases(ctx)
	if err != nil {
		e.dropConn(err)
		return outcome{}, err
	}
	if hasDatabase(dbs, name) {
		return outcome{unchanged: true, note: "already exists"}, nil
	}
	sendErr := c.CreateDatabase(ctx, name, neo4j.CreateDatabase{IfNotExists: true,
		Topology: neo4j.Topology{Primaries: int(s.Database.Primaries), Secondaries: int(s.Database.Secondaries)}})
	if sendErr == nil {
		return outcome{wrote: true}, nil
	}
	e.dropConn(sendErr)
	if !outcomeUnknown(sendErr) {
		return outcome{}, sendErr
	}
	return e.settle(ctx, "CREATE DATABASE", sendErr, databaseExists(name))
}

func hasDatabase(dbs []state.DatabaseAllocation, name string) bool {
	for _, d := range dbs {
		if d.Name == name {
			return true
		}
	}
	return false
}

// waitDatabaseOnline polls SHOW DATABASES until every allocation of the
// database is online and the current counts equal the requested ones.
func (e *Executor) waitDatabaseOnline(ctx context.Context, s plan.Step) error {
	if s.Database == nil {
		return errors.New("the step names no database")
	}
	name := s.Database.Name
	ctx, cancel := context.WithTimeout(ctx, e.Options.StepTimeout)
	defer cancel()
	return e.poll(ctx, s, "database "+name+" to be online", func(ctx context.Context) (bool, string, error) {
		var dbs []state.DatabaseAllocation
		err := e.read(ctx, "SHOW DATABASES", func(ctx context.Context, c Neo4j) (err error) {
			dbs, err = c.Databases(ctx)
			return err
		})
		if err != nil {
			return false, "", err
		}
		rows, online := 0, 0
		var reqP, reqS, curP, curS int64
		var statuses []string
		for _, d := range dbs {
			if d.Name != name {
				continue
			}
			rows++
			reqP, reqS, curP, curS = d.RequestedPrimaries, d.RequestedSecondaries, d.CurrentPrimaries, d.CurrentSecondaries
			if d.CurrentStatus == "online" {
				online++
			} else {
				st := orDash(d.CurrentStatus) + " on " + orDash(d.ServerID)
				if d.StatusMessage != "" {
					st += ": " + d.StatusMessage
				}
				statuses = append(statuses, st)
			}
		}
		if rows == 0 {
			return false, "not in SHOW DATABASES yet", nil
		}
		if online == rows && reqP == curP && reqS == curS {
			return true, "", nil
		}
		detail := fmt.Sprintf("%d/%d allocations online, %d/%d primaries, %d/%d secondaries", online, rows, curP, reqP, curS, reqS)
		if len(statuses) > 0 {
			detail += "; " + strings.Join(statuses, ", ")
		}
		return false, detail, nil
	})
}

// waitDatabasesOnline polls SHOW DATABASES until every allocation of every
// database is online and each database's current counts equal its
// requested ones; when it gives up it says what it saw last.
func (e *Executor) waitDatabasesOnline(ctx context.Context, s plan.Step) error {
	ctx, cancel := context.WithTimeout(ctx, e.Options.StepTimeout)
	defer cancel()
	return e.poll(ctx, s, "every database to be online", func(ctx context.Context) (bool, string, error) {
		var dbs []state.DatabaseAllocation
		err := e.read(ctx, "SHOW DATABASES", func(ctx context.Context, c Neo4j) (err error) {
			dbs, err = c.Databases(ctx)
			return err
		})
		if err != nil {
			return false, "", err
		}
		var pending []string
		seen := map[string]bool{}
		for _, d := range dbs {
			switch {
			case d.CurrentStatus != "online":
				msg := d.Name + " " + orDash(d.CurrentStatus) + " on " + orDash(d.ServerID)
				if d.StatusMessage != "" {
					msg += " (" + d.StatusMessage + ")"
				}
				pending = append(pending, msg)
			case !seen[d.Name] && (d.RequestedPrimaries != d.CurrentPrimaries || d.RequestedSecondaries != d.CurrentSecondaries):
				seen[d.Name] = true
				pending = append(pending, fmt.Sprintf("%s %d/%d primaries, %d/%d secondaries", d.Name, d.CurrentPrimaries, d.RequestedPrimaries, d.CurrentSecondaries, d.RequestedSecondaries))
			}
		}
		if len(pending) == 0 {
			return true, "", nil
		}
		return false, strings.Join(pending, ", "), nil
	})
}

// --- options ---

func serverOptions(o *plan.ServerOptions) neo4j.ServerOptions {
	if o == nil {
		return neo4j.ServerOptions{ModeConstraint: neo4j.ModeNone}
	}
	out := neo4j.ServerOptions{ModeConstraint: o.ModeConstraint, AllowedDatabases: o.AllowedDatabases, DeniedDatabases: o.DeniedDatabases, Tags: o.Tags}
	if out.Tags == nil {
		// ALTER SERVER replaces every option: an explicit empty list
		// clears tags set out of band.
		out.Tags = []string{}
	}
	return out
}

// equalOptions compares live options with the desired full set.
func equalOptions(s state.Server, o neo4j.ServerOptions) bool {
	mode := strings.ToUpper(s.ModeConstraint)
	if mode == "" {
		mode = neo4j.ModeNone
	}
	want := strings.ToUpper(o.ModeConstraint)
	if want == "" {
		want = neo4j.ModeNone
	}
	return mode == want && sameSet(s.Tags, o.Tags) && sameSet(s.AllowedDatabases, o.AllowedDatabases) && sameSet(s.DeniedDatabases, o.DeniedDatabases)
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	x, y := append([]string(nil), a...), append([]string(nil), b...)
	sort.Strings(x)
	sort.Strings(y)
	for i := range x {
		if x[i] != y[i] {
			return false
		}
	}
	return true
}

// serverName is what ALTER SERVER takes: the server's name, which is its
// id until renamed.
func serverName(s state.Server) string {
	if s.Name != "" {
		return s.Name
	}
	return s.ID
}

// claimDeleter is the part of *kube.Client a delete-claim step needs. A
// claim is never deleted through the generic Delete: neo4jctl did not
// write it (the StatefulSet controller did), and the generic path deletes
// only what neo4jctl wrote.
type claimDeleter interface {
	DeleteClaim(ctx context.Context, ns, name, cluster, uid string) error
	ClaimGone(ctx context.Context, ns, name string) (bool, error)
}

// deleteClaim deletes a retained claim whose volume holds a dropped
// server's identity, before the replicas go up (plan/returning.go): the
// very claim the plan saw (its UID) and only while it is the cluster's.
func (e *Executor) deleteClaim(ctx context.Context, t Target, s plan.Step) (outcome, error) {
	if s.Object == nil || s.Object.Kind != "PersistentVolumeClaim" {
		return outcome{}, fmt.Errorf("the step names no PersistentVolumeClaim")
	}
	d, ok := e.Kube.(claimDeleter)
	if !ok {
		return outcome{}, fmt.Errorf("this Kubernetes client cannot delete claims")
	}
	ns := s.Object.Namespace
	if ns == "" {
		ns = t.Namespace
	}
	if err := d.DeleteClaim(ctx, ns, s.Object.Name, t.Inventory.Cluster, s.Object.UID); err != nil {
		return outcome{wrote: true}, err
	}
	// Gone, not only marked: the StatefulSet controller would otherwise
	// start the Pod on the old volume.
	err := e.poll(ctx, s, "the claim to be gone", func(ctx context.Context) (bool, string, error) {
		gone, err := d.ClaimGone(ctx, ns, s.Object.Name)
		return gone, "the claim is still being deleted", err
	})
	return outcome{wrote: true}, err
}
