package neo4j

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Mode constraints a server can be given (ENABLE/ALTER SERVER OPTIONS).
const (
	ModeNone      = "NONE"
	ModePrimary   = "PRIMARY"
	ModeSecondary = "SECONDARY"
)

// ServerOptions are the OPTIONS of ENABLE SERVER and ALTER SERVER.
type ServerOptions struct {
	// ModeConstraint is ModeNone, ModePrimary or ModeSecondary; empty means
	// "not set" for ENABLE SERVER and ModeNone for ALTER SERVER, whose
	// OPTIONS replace every option.
	ModeConstraint string
	// AllowedDatabases and DeniedDatabases are mutually exclusive; empty
	// lists are omitted.
	AllowedDatabases []string
	DeniedDatabases  []string
	// Tags is omitted when nil; an empty non-nil slice sends tags: [] so
	// ALTER SERVER can clear them.
	Tags []string
}

// literal renders the OPTIONS map; full forces modeConstraint, as ALTER
// SERVER resets every option it is not given.
func (o ServerOptions) literal(full bool) (string, error) {
	m := map[string]any{}
	mode := strings.ToUpper(o.ModeConstraint)
	switch mode {
	case "":
		if full {
			m["modeConstraint"] = ModeNone
		}
	case ModeNone, ModePrimary, ModeSecondary:
		m["modeConstraint"] = mode
	default:
		return "", fmt.Errorf("modeConstraint must be NONE, PRIMARY or SECONDARY, got %q", o.ModeConstraint)
	}
	if len(o.AllowedDatabases) > 0 && len(o.DeniedDatabases) > 0 {
		return "", errors.New("allowedDatabases and deniedDatabases are mutually exclusive")
	}
	for _, list := range [][]string{o.AllowedDatabases, o.DeniedDatabases} {
		for _, db := range list {
			if err := ValidateDatabaseName(db); err != nil {
				return "", err
			}
		}
	}
	if len(o.AllowedDatabases) > 0 {
		m["allowedDatabases"] = o.AllowedDatabases
	}
	if len(o.DeniedDatabases) > 0 {
		m["deniedDatabases"] = o.DeniedDatabases
	}
	if o.Tags != nil {
		m["tags"] = o.Tags
	}
	if len(m) == 0 {
		return "", nil
	}
	return MapLiteral(m)
}

// EnableServerStatement builds ENABLE SERVER 'id' [OPTIONS {…}]. Enabling an
// Enabled server with equal options is a no-op, and it also uncordons.
func EnableServerStatement(id string, opts ServerOptions) (string, error) {
	q, err := quoteServer(id)
	if err != nil {
		return "", err
	}
	o, err := opts.literal(false)
	if err != nil {
		return "", fmt.Errorf("server %s: %w", q, err)
	}
	if o == "" {
		return "ENABLE SERVER " + q, nil
	}
	return "ENABLE SERVER " + q + " OPTIONS " + o, nil
}

// AlterServerOptionsStatement builds ALTER SERVER 'name' SET OPTIONS {…}.
// ALTER SERVER replaces all options, so the map always carries the full
// desired set (modeConstraint defaults to NONE).
func AlterServerOptionsStatement(name string, opts ServerOptions) (string, error) {
	q, err := quoteServer(name)
	if err != nil {
		return "", err
	}
	o, err := opts.literal(true)
	if err != nil {
		return "", fmt.Errorf("server %s: %w", q, err)
	}
	return "ALTER SERVER " + q + " SET OPTIONS " + o, nil
}

// RenameServerStatement builds RENAME SERVER 'from' TO 'to'.
func RenameServerStatement(from, to string) (string, error) {
	f, err := quoteServer(from)
	if err != nil {
		return "", err
	}
	t, err := quoteServer(to)
	if err != nil {
		return "", err
	}
	return "RENAME SERVER " + f + " TO " + t, nil
}

// CordonServerStatement builds CALL dbms.cluster.cordonServer('id').
func CordonServerStatement(id string) (string, error) {
	q, err := quoteServer(id)
	if err != nil {
		return "", err
	}
	return "CALL dbms.cluster.cordonServer(" + q + ")", nil
}

// DeallocateServersStatement builds [DRYRUN] DEALLOCATE DATABASES FROM
// SERVER 'a' (SERVERS 'a', 'b' for several), keeping the caller's order.
func DeallocateServersStatement(dryRun bool, ids ...string) (string, error) {
	if len(ids) == 0 {
		return "", errors.New("DEALLOCATE needs at least one server")
	}
	quoted := make([]string, len(ids))
	for i, id := range ids {
		q, err := quoteServer(id)
		if err != nil {
			return "", err
		}
		quoted[i] = q
	}
	kw := "SERVER "
	if len(ids) > 1 {
		kw = "SERVERS "
	}
	return dryRunPrefix(dryRun) + "DEALLOCATE DATABASES FROM " + kw + strings.Join(quoted, ", "), nil
}

// ReallocateDatabasesStatement builds [DRYRUN] REALLOCATE DATABASES.
func ReallocateDatabasesStatement(dryRun bool) string {
	return dryRunPrefix(dryRun) + "REALLOCATE DATABASES"
}

// DropServerStatement builds DROP SERVER 'id'.
func DropServerStatement(id string) (string, error) {
	q, err := quoteServer(id)
	if err != nil {
		return "", err
	}
	return "DROP SERVER " + q, nil
}

// StatusCheckStatement builds CALL dbms.cluster.statusCheck([…], ms). An
// empty dbs list asks about every database.
func StatusCheckStatement(dbs []string, timeout time.Duration) (string, error) {
	for _, db := range dbs {
		if err := ValidateDatabaseName(db); err != nil {
			return "", err
		}
	}
	list, err := Literal(append([]string{}, dbs...))
	if err != nil {
		return "", err
	}
	ms := timeout.Milliseconds()
	if ms <= 0 {
		ms = 1000 // the procedure's own default
	}
	return "CALL dbms.cluster.statusCheck(" + list + ", " + strconv.FormatInt(ms, 10) + ")", nil
}

func dryRunPrefix(dryRun bool) string {
	if dryRun {
		return "DRYRUN "
	}
	return ""
}

// quoteServer quotes a server id or name, which Neo4j takes as a string.
func quoteServer(s string) (string, error) {
	if s == "" {
		return "", errors.New("server id or name is empty")
	}
	return QuoteString(s)
}

// WaitMode selects the WAIT clause of a database administration command.
type WaitMode int

// Wait clauses. WaitOmit sends none, which Neo4j treats as NOWAIT.
const (
	WaitOmit WaitMode = iota
	// WaitDefault sends WAIT: Neo4j waits up to its default (300 s).
	WaitDefault
	// WaitSeconds sends WAIT n SECONDS.
	WaitSeconds
	// NoWait sends NOWAIT.
	NoWait
)

// Wait is the WAIT clause of CREATE/DROP DATABASE.
type Wait struct {
	Mode WaitMode
	// Seconds bounds WaitSeconds; it must be positive.
	Seconds int
}

// WaitFor returns a WAIT n SECONDS clause rounding d up to whole seconds.
func WaitFor(d time.Duration) Wait {
	s := int((d + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	return Wait{Mode: WaitSeconds, Seconds: s}
}

func (w Wait) clause() (string, error) {
	switch w.Mode {
	case WaitOmit:
		return "", nil
	case WaitDefault:
		return " WAIT", nil
	case WaitSeconds:
		if w.Seconds <= 0 {
			return "", fmt.Errorf("WAIT needs a positive number of seconds, got %d", w.Seconds)
		}
		return " WAIT " + strconv.Itoa(w.Seconds) + " SECONDS", nil
	case NoWait:
		return " NOWAIT", nil
	default:
		return "", fmt.Errorf("unknown wait mode %d", w.Mode)
	}
}

// DatabaseOptions are the OPTIONS of CREATE DATABASE; zero fields are
// omitted. Seed credentials are deliberately absent: they would be printed
// in plans; give the servers cloud credentials instead.
type DatabaseOptions struct {
	// ExistingData is "use" when seeding (required by Cypher 5 with SeedURI).
	ExistingData string
	// SeedURI is the backup or dump to seed from (s3://, gs://, file:, …).
	SeedURI string
	// SeedConfig is the seed provider configuration string.
	SeedConfig string
	// SeedRestoreUntil restores the seed up to a point in time; it is
	// exclusive with SeedRestoreUntilTxID.
	SeedRestoreUntil time.Time
	// SeedRestoreUntilTxID restores the seed up to a transaction id.
	SeedRestoreUntilTxID int64
	// StoreFormat is e.g. "block" or "aligned".
	StoreFormat string
	// TxLogEnrichment is "FULL", "DIFF" or "OFF" (change data capture).
	TxLogEnrichment string
}

func (o DatabaseOptions) literal() (string, error) {
	m := map[string]any{}
	if o.ExistingData != "" {
		m["existingData"] = o.ExistingData
	}
	if o.SeedURI != "" {
		m["seedURI"] = o.SeedURI
	}
	if o.SeedConfig != "" {
		m["seedConfig"] = o.SeedConfig
	}
	if !o.SeedRestoreUntil.IsZero() && o.SeedRestoreUntilTxID != 0 {
		return "", errors.New("seedRestoreUntil takes a time or a transaction id, not both")
	}
	if !o.SeedRestoreUntil.IsZero() {
		m["seedRestoreUntil"] = o.SeedRestoreUntil
	}
	if o.SeedRestoreUntilTxID != 0 {
		m["seedRestoreUntil"] = o.SeedRestoreUntilTxID
	}
	if o.StoreFormat != "" {
		m["storeFormat"] = o.StoreFormat
	}
	if o.TxLogEnrichment != "" {
		m["txLogEnrichment"] = o.TxLogEnrichment
	}
	if len(m) == 0 {
		return "", nil
	}
	return MapLiteral(m)
}

// Topology is a database's number of primary and secondary allocations.
// Primaries == 0 means "no TOPOLOGY clause" (the server defaults apply).
type Topology struct {
	Primaries   int
	Secondaries int
}

func (t Topology) clause() (string, error) {
	if t.Primaries < 0 || t.Secondaries < 0 {
		return "", fmt.Errorf("topology counts must not be negative, got %d primaries %d secondaries", t.Primaries, t.Secondaries)
	}
	if t.Primaries == 0 {
		if t.Secondaries != 0 {
			return "", errors.New("a topology with secondaries needs at least one primary")
		}
		return "", nil
	}
	// Always the plural keywords and always both counts: Neo4j accepts
	// PRIMARY|PRIMARIES for any count, and one canonical form keeps plans,
	// golden files and the simulator's parser simple.
	return fmt.Sprintf(" TOPOLOGY %d PRIMARIES %d SECONDARIES", t.Primaries, t.Secondaries), nil
}

// CreateDatabase are the clauses of CREATE DATABASE.
type CreateDatabase struct {
	// IfNotExists makes the statement a no-op for an existing database; it
	// is exclusive with OrReplace.
	IfNotExists bool
	// OrReplace drops an existing database of that name first (used for
	// seeding a restore over it).
	OrReplace bool
	Topology  Topology
	Options   DatabaseOptions
	Wait      Wait
}

// CreateDatabaseStatement builds CREATE [OR REPLACE] DATABASE `name` [IF NOT
// EXISTS] [TOPOLOGY n PRIMARIES m SECONDARIES] [OPTIONS {…}] [WAIT…|NOWAIT].
func CreateDatabaseStatement(name string, c CreateDatabase) (string, error) {
	q, err := QuoteDatabaseName(name)
	if err != nil {
		return "", err
	}
	if name == "system" {
		return "", errors.New("the system database cannot be created")
	}
	if c.IfNotExists && c.OrReplace {
		return "", errors.New("IF NOT EXISTS and OR REPLACE are mutually exclusive")
	}
	var b strings.Builder
	b.WriteString("CREATE ")
	if c.OrReplace {
		b.WriteString("OR REPLACE ")
	}
	b.WriteString("DATABASE " + q)
	if c.IfNotExists {
		b.WriteString(" IF NOT EXISTS")
	}
	topo, err := c.Topology.clause()
	if err != nil {
		return "", err
	}
	b.WriteString(topo)
	opts, err := c.Options.literal()
	if err != nil {
		return "", err
	}
	if opts != "" {
		b.WriteString(" OPTIONS " + opts)
	}
	wait, err := c.Wait.clause()
	if err != nil {
		return "", err
	}
	b.WriteString(wait)
	return b.String(), nil
}

// AlterDatabaseTopologyStatement builds ALTER DATABASE `name` SET TOPOLOGY n
// PRIMARIES m SECONDARIES. Neo4j refuses going from several primaries to
// one (51N41); that is the server's call, not this builder's.
func AlterDatabaseTopologyStatement(name string, t Topology) (string, error) {
	q, err := QuoteDatabaseName(name)
	if err != nil {
		return "", err
	}
	if t.Primaries < 1 {
		return "", fmt.Errorf("database %s: a topology needs at least one primary, got %d", q, t.Primaries)
	}
	topo, err := t.clause()
	if err != nil {
		return "", err
	}
	return "ALTER DATABASE " + q + " SET" + topo, nil
}

// AlterDatabaseAccessStatement builds ALTER DATABASE `name` SET ACCESS READ
// ONLY|READ WRITE.
func AlterDatabaseAccessStatement(name string, readOnly bool) (string, error) {
	q, err := QuoteDatabaseName(name)
	if err != nil {
		return "", err
	}
	access := "READ WRITE"
	if readOnly {
		access = "READ ONLY"
	}
	return "ALTER DATABASE " + q + " SET ACCESS " + access, nil
}

// DropDatabase are the clauses of DROP DATABASE.
type DropDatabase struct {
	IfExists bool
	// DumpData keeps a dump of the store (DUMP DATA); false sends DESTROY
	// DATA, Neo4j's default, spelt out so plans show what happens.
	DumpData bool
	Wait     Wait
}

// DropDatabaseStatement builds DROP DATABASE `name` [IF EXISTS] DUMP
// DATA|DESTROY DATA [WAIT…|NOWAIT].
func DropDatabaseStatement(name string, d DropDatabase) (string, error) {
	q, err := QuoteDatabaseName(name)
	if err != nil {
		return "", err
	}
	if name == "system" {
		return "", errors.New("the system database cannot be dropped")
	}
	var b strings.Builder
	b.WriteString("DROP DATABASE " + q)
	if d.IfExists {
		b.WriteString(" IF EXISTS")
	}
	if d.DumpData {
		b.WriteString(" DUMP DATA")
	} else {
		b.WriteString(" DESTROY DATA")
	}
	wait, err := d.Wait.clause()
	if err != nil {
		return "", err
	}
	b.WriteString(wait)
	return b.String(), nil
}
