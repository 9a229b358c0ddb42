package neo4jsim

import (
	"strings"
	"time"
)

// A slow statement: the server carries it out, but its answer comes late,
// later than a client that set itself a deadline waits for it. The client
// gives up and closes its connection; the statement takes effect all the
// same (fact: statement.interrupted-continues). Tests use it to check
// that a write past its deadline is followed by a read of the state, not
// by a guess.

// slowStatement is one SlowNext fault waiting for its statement.
type slowStatement struct {
	prefix string
	effect time.Duration // from arrival until it takes effect
	reply  time.Duration // from arrival until it is answered
}

// SlowNext makes the next statement whose text starts with prefix (case
// and leading spaces ignored) take effect after effect and be answered
// after reply (at least effect). effect 0 is a statement carried out at
// once whose answer is late; effect longer than the client waits is one
// still under way when the client looks again. Faults for several prefixes
// can wait at once; each applies once.
func (s *Simulator) SlowNext(prefix string, effect, reply time.Duration) {
	s.slowMu.Lock()
	defer s.slowMu.Unlock()
	s.slow = append(s.slow, slowStatement{prefix: strings.ToUpper(prefix), effect: effect, reply: max(reply, effect)})
}

// takeSlow removes and returns the fault that matches query, if any.
func (s *Simulator) takeSlow(query string) (slowStatement, bool) {
	q := strings.ToUpper(strings.TrimSpace(query))
	s.slowMu.Lock()
	defer s.slowMu.Unlock()
	for i, f := range s.slow {
		if strings.HasPrefix(q, f.prefix) {
			s.slow = append(s.slow[:i], s.slow[i+1:]...)
			return f, true
		}
	}
	return slowStatement{}, false
}

// executeSlowly runs a statement under its SlowNext fault: the connection
// is held for the whole reply time, as a server still working on it holds
// it, and the effect happens whether or not the client is still there.
func (c *conn) executeSlowly(f slowStatement, db, query string, params map[string]any) (*result, *cypherError) {
	time.Sleep(f.effect)
	res, err := c.sim.execute(c.srv, db, query, params)
	time.Sleep(f.reply - f.effect)
	return res, err
}

// SetLogReads turns the logging of reads (SHOW …, read-only CALLs) on or
// off: a test that must see what a client read after a fault turns it on.
func (s *Simulator) SetLogReads(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg.LogReads = on
}
