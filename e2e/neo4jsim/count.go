package neo4jsim

import (
	"fmt"
	"strings"
	"sync"
)

// The simulator holds no graph. A DR drill's only data query is a node
// count per database, so a test states the count a database holds
// (SetNodeCount) and the simulator answers `MATCH (n) RETURN count(n)`
// with it, as a real server answers from its store: on a database that
// is online, else with the error a real server gives.

var (
	nodeCountsMu sync.Mutex
	// nodeCounts is per simulator (keyed by it: the Simulator struct is
	// owned by the cluster model, this file only adds the count).
	nodeCounts = map[*Simulator]map[string]int64{}
)

// SetNodeCount sets how many nodes database db holds.
func (s *Simulator) SetNodeCount(db string, n int64) {
	nodeCountsMu.Lock()
	defer nodeCountsMu.Unlock()
	if nodeCounts[s] == nil {
		nodeCounts[s] = map[string]int64{}
	}
	nodeCounts[s][db] = n
}

// countQuery is the one node-count statement answered, normalised
// (lower case, single spaces); the column is named by the AS alias or,
// without one, by the expression (Cypher names a column by its
// expression text).
func countQuery(query string) (column string, ok bool) {
	q := strings.Join(strings.Fields(strings.ToLower(strings.TrimSuffix(strings.TrimSpace(query), ";"))), " ")
	const base = "match (n) return count(n)"
	switch {
	case q == base:
		return "count(n)", true
	case strings.HasPrefix(q, base+" as "):
		alias := strings.TrimSpace(strings.TrimPrefix(q, base+" as "))
		if alias == "" || strings.ContainsAny(alias, " ,") {
			return "", false
		}
		// The alias as the query wrote it (case kept).
		orig := strings.Fields(strings.TrimSuffix(strings.TrimSpace(query), ";"))
		return orig[len(orig)-1], true
	}
	return "", false
}

// countNodes answers the node count on db (called with s.mu held).
// handled is false for any other statement.
func (s *Simulator) countNodes(db, query string) (res *result, handled bool, err *cypherError) {
	col, ok := countQuery(query)
	if !ok {
		return nil, false, nil
	}
	d := s.dbs[db]
	if d == nil {
		// Real 5.26's words for a statement sent to an unknown database.
		return nil, true, &cypherError{code: CodeDatabaseNotFound, msg: "Graph not found: " + db}
	}
	// fact: database.count-query: a query reads a database only while
	// it is online.
	if d.stopped || d.statusMsg != "" {
		return nil, true, &cypherError{code: CodeDatabaseUnavailable, msg: fmt.Sprintf("Database '%s' is unavailable.", db)}
	}
	nodeCountsMu.Lock()
	n := nodeCounts[s][db]
	nodeCountsMu.Unlock()
	return &result{fields: []string{col}, rows: [][]any{{n}}, qtype: "r", db: db}, true, nil
}
