package plan

import "fmt"

// KindDropDatabase sends DROP DATABASE for a database the cluster file
// marks state: absent. It is irreversible: the database's data is gone
// (delete-databases.adoc: DROP DATABASE deletes the database and its
// data; a later CREATE DATABASE of the same name is a new, empty one), so
// apply asks for the database's name to be typed, as destroy --delete-data
// asks for the cluster's, and watch's enforce mode holds it.
const KindDropDatabase Kind = "drop-database"

// DatabaseStateAbsent is the spec.databases[].state that asks for a
// database to be dropped. A database merely removed from the cluster file
// is unmanaged and never dropped.
const DatabaseStateAbsent = "absent"

// dropDatabase plans the DROP DATABASE of w, which the cluster file marks
// absent; live is the database in Neo4j (nil: already gone, nothing to
// do). The default database is refused: Neo4j cannot drop it while it is
// the default (dbms.default_database), and a cluster without it is not
// what a DBA means by removing one database.
func (b *builder) dropDatabase(w Database, live *liveDB, step func(Step)) {
	addr := "neo4j:database/" + w.Name
	if live == nil {
		return
	}
	if live.Default {
		b.refuse(addr, fmt.Sprintf("database %s is the default database: Neo4j does not drop the default database", w.Name),
			fmt.Sprintf("make another database the default (dbms.default_database), or remove state: absent from %s", w.Name))
		return
	}
	step(Step{Address: addr, Action: ActionDelete, Kind: KindDropDatabase, Irreversible: true,
		Reason:   "the cluster file marks it state: absent; its data is deleted",
		Database: &DatabaseStep{Name: w.Name}, Before: topology(live.ReqP, live.ReqS)})
}

// DropConfirmations lists the names of the databases p drops: each must be
// typed (or given with --confirm-drop) before apply runs p. --auto-approve
// never stands in for them.
func DropConfirmations(p *Plan) []string {
	var out []string
	for _, s := range p.Steps {
		if s.Kind == KindDropDatabase && s.Database != nil {
			out = append(out, s.Database.Name)
		}
	}
	return out
}
