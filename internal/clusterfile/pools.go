package clusterfile

import (
	"fmt"
	"strings"
)

// A server pool's allowedDatabases / deniedDatabases are the ENABLE SERVER
// and ALTER SERVER options of the same names (Operations Manual 5.26,
// clustering/servers.adoc § Altering server options: "Only databases
// matching the specified names may be hosted on the server" / "Only
// databases not matching …"; they "may not be specified in combination").
// Absent, the pool does not manage them: neo4jctl keeps what the servers
// have (ALTER SERVER replaces all options, so it sends the live lists
// back). An empty list (allowedDatabases: []) manages them as "none".

// AllowsDatabase reports whether a server pool lets its servers host db.
func (p ServerPool) AllowsDatabase(db string) bool {
	if len(p.AllowedDatabases) > 0 {
		return containsFold(p.AllowedDatabases, db)
	}
	return !containsFold(p.DeniedDatabases, db)
}

func containsFold(l []string, s string) bool {
	for _, e := range l {
		if strings.EqualFold(e, s) {
			return true
		}
	}
	return false
}

// poolDatabases checks one pool's lists.
func (v *validator) poolDatabases(path string, pool ServerPool) {
	if len(pool.AllowedDatabases) > 0 && len(pool.DeniedDatabases) > 0 {
		v.add(path+".deniedDatabases", "allowedDatabases and deniedDatabases are mutually exclusive (clustering/servers.adoc § Altering server options)",
			"keep one of the two lists")
	}
	for _, list := range []struct {
		field string
		names []string
	}{{"allowedDatabases", pool.AllowedDatabases}, {"deniedDatabases", pool.DeniedDatabases}} {
		seen := map[string]bool{}
		for i, name := range list.names {
			p := fmt.Sprintf("%s.%s[%d]", path, list.field, i)
			switch {
			case name == "system":
				v.add(p, "the system database is hosted by every server; it cannot be allowed or denied", "remove system from the list")
			case !databaseName.MatchString(name):
				v.add(p, fmt.Sprintf("%q is not a valid database name", name), "3–63 lower-case letters, digits, '.' and '-', starting with a letter")
			case seen[name]:
				v.add(p, fmt.Sprintf("duplicate database %q", name), "list each database once")
			}
			seen[name] = true
		}
	}
}

// hostableBehindPools refuses a database whose topology the pools' lists
// leave too few servers for: Neo4j refuses such an ALTER SERVER ("if the
// alteration of a server's options renders it impossible for the cluster
// to satisfy one or more of the databases' topologies, then the command
// fails and no changes are made", clustering/servers.adoc § Altering
// server options).
func (v *validator) hostableBehindPools(path string, s *Spec, db Database) {
	restricted := false
	var primaries, secondaries, hosts int32
	count := func(n int32, mode string) {
		hosts += n
		if mode != "SECONDARY" {
			primaries += n
		}
		if mode != "PRIMARY" {
			secondaries += n
		}
	}
	count(s.Servers, s.ModeConstraint)
	for _, pool := range s.ServerPools {
		if !pool.AllowsDatabase(db.Name) {
			restricted = true
			continue
		}
		count(pool.Servers, pool.ModeConstraint)
	}
	if !restricted {
		return
	}
	t := db.Topology
	switch {
	case t.Primaries > primaries:
		v.add(path+".topology.primaries", fmt.Sprintf("%d primaries need %d servers that may host %s as a primary; the server pools' allowedDatabases/deniedDatabases leave %d", t.Primaries, t.Primaries, db.Name, primaries),
			"allow the database on more pools, or lower the primaries")
	case t.Secondaries > secondaries:
		v.add(path+".topology.secondaries", fmt.Sprintf("%d secondaries need %d servers that may host %s as a secondary; the server pools' allowedDatabases/deniedDatabases leave %d", t.Secondaries, t.Secondaries, db.Name, secondaries),
			"allow the database on more pools, or lower the secondaries")
	case t.Primaries+t.Secondaries > hosts:
		v.add(path+".topology", fmt.Sprintf("%d primaries and %d secondaries need %d servers that may host %s; the server pools' allowedDatabases/deniedDatabases leave %d", t.Primaries, t.Secondaries, t.Primaries+t.Secondaries, db.Name, hosts),
			"allow the database on more pools, or lower the topology")
	}
}
