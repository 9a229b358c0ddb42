package neo4jsim

import (
	"fmt"
	"time"
)

// Fault injection. Each method changes how the simulator behaves from the
// next message on; none of them is undone automatically unless stated.

// SetPassword changes the password new connections must present (a
// credential rotation; existing connections stay authenticated, as on a real
// server).
func (s *Simulator) SetPassword(pw string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.password = pw
}

// RefuseConnections makes every server close new connections at once
// (on=true) or accept them again (on=false).
func (s *Simulator) RefuseConnections(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuse = on
}

// DropConnections closes every open connection on every server and reports
// how many were closed. Clients see a connectivity error.
func (s *Simulator) DropConnections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, srv := range s.servers {
		for c := range srv.conns {
			c.nc.Close()
			n++
		}
	}
	return n
}

// FailNext makes the next n statements (on any server) fail with
// Neo.TransientError.General.DatabaseUnavailable, which the driver's managed
// transactions retry.
func (s *Simulator) FailNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = n
}

// SetLatency delays every statement's answer by d (0 turns it off).
func (s *Simulator) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

func (s *Simulator) latencyNow() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.latency
}

// SetSplitBrain makes dbms.cluster.statusCheck report, for database db ("*"
// for all), one member that recognises a different leader in an older term.
func (s *Simulator) SetSplitBrain(db string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if on {
		s.splitBrain[db] = true
	} else {
		delete(s.splitBrain, db)
	}
}

// SetReplicationLag makes the copy of database db on server ref report
// itself n transactions behind the writer in SHOW DATABASES
// (replicationLag -n, lastCommittedTxn n lower: fact:
// database.replication-lag); n = 0 lets it catch up. The writer's own copy
// is never behind.
func (s *Simulator) SetReplicationLag(db, ref string, n int64) error {
	return s.withServer(ref, func(srv *simServer) {
		if s.lag[db] == nil {
			s.lag[db] = map[string]int64{}
		}
		if n <= 0 {
			delete(s.lag[db], srv.id)
			return
		}
		s.lag[db][srv.id] = n
	})
}

// SetStuckDeallocating keeps a server in Deallocating (stuck=true) however
// long it waits; stuck=false lets it finish on the next observation.
func (s *Simulator) SetStuckDeallocating(ref string, stuck bool) error {
	return s.withServer(ref, func(srv *simServer) { srv.stuck = stuck })
}

// SetNotALeader makes admin statements that arrive on a server other than
// the system leader fail with Neo.ClientError.Cluster.NotALeader, as they
// would with server-side routing disabled. The driver refreshes its routing
// table and retries on the leader.
func (s *Simulator) SetNotALeader(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.notALeader = on
}

// SetDatabaseOffline puts a user database offline with a status message
// (a failed store, a bad seed) or, with message "", brings it back online.
func (s *Simulator) SetDatabaseOffline(name, message string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	db := s.dbs[name]
	if db == nil {
		return fmt.Errorf("neo4jsim: no database %q", name)
	}
	db.statusMsg = message
	return nil
}

// SetDownAfterRestart makes a server that follows a Pod stay Unavailable
// after that Pod restarts (a store that no longer starts: the Pod is Ready,
// the Neo4j server never rejoins). on=false brings it back at once if its
// Pod is Ready.
func (s *Simulator) SetDownAfterRestart(ref string, on bool) error {
	return s.withServer(ref, func(srv *simServer) {
		srv.downAfterRestart = on
		if !on && srv.podReady && !srv.available && srv.podKey != "" && !srv.down {
			srv.available = true
			s.advance()
		}
	})
}

// SetTransitionDelay changes how long asynchronous work started from now
// on takes (store copies, deallocation, START / STOP): tests make it long to
// exercise timeouts and interruptions (fact: database.transition-time).
// Negative means immediate.
func (s *Simulator) SetTransitionDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg.TransitionDelay = max(d, 0)
}
