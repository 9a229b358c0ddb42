package neo4jsim

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Statement is one entry of the simulator's statement log: what arrived,
// where, and how it ended.
type Statement struct {
	Time       time.Time
	ServerID   string // serverId of the server the statement arrived on
	ServerName string
	Address    string // advertised address of that server
	Database   string // database the statement ran against
	Query      string
	Params     map[string]any
	Command    string // normalised verb, e.g. "ENABLE SERVER"; "" if unparsable
	Outcome    string // "ok", or the Neo4j status code of the failure
	Message    string // failure message, empty on success
}

// OK reports whether the statement succeeded.
func (st Statement) OK() bool { return st.Outcome == "ok" }

// result is a query's full answer; the connection streams it on PULL.
type result struct {
	fields []string
	rows   [][]any
	qtype  string // r, w, rw, s
	db     string
}

var settingColumns = []string{"name", "value", "isDynamic", "defaultValue", "description", "startupValue",
	"isExplicitlySet", "validValues", "isDeprecated"}
var settingDefaultColumns = []string{"name", "value", "isDynamic", "defaultValue", "description"}
var listConfigColumns = []string{"name", "description", "value", "dynamic", "defaultValue", "startupValue",
	"explicitlySet", "validValues"}

// setting is one configuration setting the simulator reports.
type setting struct {
	def     string
	value   string
	dynamic bool
	desc    string
	valid   string
	set     bool   // explicitly set in neo4j.conf
	startup string // the value when the server started
}

// Texts of settings as real Neo4j 5.26 reports them (recorded in
// e2e/contract/testdata/community-5.26.json where the suite samples them).
const (
	validBoolean = "A boolean."
	validAddress = "A socket address in the format of `hostname:port`, `hostname`, or `:port`. " +
		"If missing, it is acquired from server.default_listen_address."
	validByteSize = "A byte size (valid multipliers are `B`, `KiB`, `KB`, `K`, `kB`, `kb`, `k`, `MiB`, `MB`, `M`, " +
		"`mB`, `mb`, `m`, `GiB`, `GB`, `G`, `gB`, `gb`, `g`, `TiB`, `TB`, `PiB`, `PB`, `EiB`, `EB`)."
	descQueryLog = "Log executed queries. Valid values are `OFF`, `INFO`, or `VERBOSE`.\n\n`OFF`::  no logging.\n" +
		"`INFO`:: log queries at the end of execution, that take longer than the configured threshold, `db.logs.query.threshold`.\n" +
		"`VERBOSE`:: log queries at the start and end of execution, regardless of `db.logs.query.threshold`.\n\n" +
		"Log entries are written to the query log.\n\nThis feature is available in the Neo4j Enterprise Edition."
	descPageCache = "The amount of memory to use for mapping the store files. If Neo4j is running on a dedicated server, " +
		"then it is generally recommended to leave about 2-4 gigabytes for the operating system, give the JVM enough heap " +
		"to hold all your transaction state and query context, and then leave the rest for the page cache. If no page " +
		"cache memory is configured, then a heuristic setting is computed based on available system resources.\n" +
		"By default, the size of page cache is 50% of available RAM minus the max heap size (but not larger than 70x " +
		"the max heap size, due to some overhead of the page cache in the heap)."
)

// defaultSettings returns the settings a freshly installed server reports.
// Community lacks the Enterprise-only ones (backup, clustering, topology
// defaults): real Community 5.26 does not report them at all.
func defaultSettings(community bool) map[string]*setting {
	d := func(def string, dynamic bool, desc, valid string) *setting {
		return &setting{def: def, value: def, startup: def, dynamic: dynamic, desc: desc, valid: valid}
	}
	out := map[string]*setting{
		"server.bolt.enabled":            d("true", false, "Enable the bolt connector.", validBoolean),
		"server.bolt.listen_address":     d(":7687", false, "Address the connector should bind to.", validAddress),
		"server.bolt.advertised_address": d(":7687", false, "Advertised address for this connector.", validAddress),
		// The simulator always demands credentials. Real servers default to
		// true (the embedded server the contract suite starts reports a
		// default of false and sets it explicitly).
		"dbms.security.auth_enabled":  d("true", false, "Enable auth requirement to access Neo4j.\nDefaults to `true`.", validBoolean),
		"dbms.routing.enabled":        d("true", false, "Enable server-side routing in clusters using an additional bolt connector.", validBoolean),
		"server.memory.heap.max_size": d("", false, "Maximum heap size.", validByteSize),
		// Unset by default: Neo4j sizes the page cache itself and reports null.
		"server.memory.pagecache.size": d("", false, descPageCache, validByteSize),
		"db.logs.query.enabled":        d("VERBOSE", true, descQueryLog, "One of [OFF, INFO, VERBOSE]."),
		"db.transaction.timeout":       d("0s", true, "The maximum time interval of a transaction within which it should be completed.", "A duration (Valid units are: `ns`, `μs`, `ms`, `s`, `m`, `h` and `d`; default unit is `s`)."),
	}
	if community {
		return out
	}
	for k, v := range map[string]*setting{
		"server.backup.enabled":                               d("true", false, "Enable support for running online backups.", validBoolean),
		"server.backup.listen_address":                        d("127.0.0.1:6362", false, "Network interface and port for the backup server to listen on.", validAddress),
		"server.cluster.system_database_mode":                 d("PRIMARY", false, "Users must manually specify the mode for the system database on each instance.", "One of [PRIMARY, SECONDARY]."),
		"initial.server.mode_constraint":                      d("NONE", false, "An instance can restrict itself to allow databases to be hosted only as primaries or secondaries.", "One of [PRIMARY, SECONDARY, NONE]."),
		"initial.dbms.default_primaries_count":                d("1", false, "Initial default number of primary instances of user databases.", "An integer which is in the range `1..11`."),
		"initial.dbms.default_secondaries_count":              d("0", false, "Initial default number of secondary instances of user databases.", "An integer which is in the range `0..20`."),
		"initial.dbms.automatically_enable_free_servers":      d("false", false, "Automatically enable free servers.", validBoolean),
		"dbms.cluster.minimum_initial_system_primaries_count": d("3", false, "Minimum number of machines initially required to form a clustered DBMS.", "An integer which is minimum `1`."),
	} {
		out[k] = v
	}
	// fact: settings.all-listed
	for k := range dynamicSettings {
		if _, ok := out[k]; !ok {
			out[k] = d(dynamicDefaults[k], true, "Simulated setting.", "")
		}
	}
	return out
}

// dynamicDefaults are the defaults of dynamic settings the simulator
// reports (configuration-settings.adoc, each setting's "Default value");
// the others report none (null).
var dynamicDefaults = map[string]string{
	"db.logs.query.threshold": "0s",
}

// fact: settings.per-server
// settingsFor returns the settings as srv reports them: the base settings,
// then what srv started with, then its live changes; some values are
// per-server by nature, like its advertised address.
func (s *Simulator) settingsFor(srv *simServer) map[string]*setting {
	out := make(map[string]*setting, len(s.settings))
	for k, v := range s.settings {
		c := *v
		out[k] = &c
	}
	if srv == nil {
		return out
	}
	for k, v := range srv.conf {
		st, ok := out[k]
		if !ok {
			st = &setting{desc: "Simulated setting.", dynamic: dynamicSettings[k]}
			out[k] = st
		}
		st.value, st.startup, st.set = v, v, true
	}
	// fact: discovery.mode: a 5.x server lists
	// dbms.cluster.discovery.version with its default V1_ONLY when its
	// configuration leaves it out (configuration-settings.adoc, 5.x); the
	// setting is gone from 2025.01 (breaking-changes.adoc § Settings).
	const discoveryVersion = "dbms.cluster.discovery.version"
	if _, ok := out[discoveryVersion]; !ok && !s.community && srv.version != "" && !calendarVersion(srv.version) {
		out[discoveryVersion] = &setting{def: "V1_ONLY", value: "V1_ONLY", startup: "V1_ONLY", desc: "Simulated setting.", valid: "One of [V1_ONLY, V1_OVER_V2, V2_OVER_V1, V2_ONLY]."}
	}
	adv := *out["server.bolt.advertised_address"]
	adv.value, adv.startup, adv.set = srv.advertised, srv.advertised, true
	out["server.bolt.advertised_address"] = &adv
	for k, v := range srv.runtime {
		if st, ok := out[k]; ok {
			st.value = v
			if v == "" {
				st.value = st.def
			}
		}
	}
	return out
}

// execute runs one statement on srv against database db.
func (s *Simulator) execute(srv *simServer, db, query string, params map[string]any) (*result, *cypherError) {
	st := Statement{Time: time.Now(), Database: db, Query: query, Params: params, Outcome: "ok"}
	s.mu.Lock()
	defer s.mu.Unlock()
	st.ServerID, st.ServerName, st.Address = srv.id, srv.name, srv.advertised
	res, logIt, err := s.executeLocked(srv, db, query, params, &st)
	if err != nil {
		st.Outcome, st.Message = err.code, err.msg
		logIt = true
	}
	if logIt || s.cfg.LogReads {
		s.log = append(s.log, st)
	}
	return res, err
}

func (s *Simulator) executeLocked(srv *simServer, db, query string, params map[string]any, st *Statement) (*result, bool, *cypherError) {
	if s.failNext > 0 {
		s.failNext--
		return nil, true, &cypherError{code: CodeDatabaseUnavailable, msg: fmt.Sprintf("Database '%s' is unavailable.", db)}
	}
	if res, handled, err := s.alterCurrentUser(db, query, params, st); handled {
		return res, true, err
	}
	if res, handled, err := s.countNodes(db, query); handled {
		return res, err != nil, err
	}
	c, perr := parseCypher(query)
	if perr != nil {
		return nil, true, &cypherError{code: CodeSyntaxError, msg: perr.Error()}
	}
	st.Command = c.verb
	s.advance()
	admin := c.kind.isAdmin() || (c.kind == cmdCall && adminProcs[strings.ToLower(c.proc)])
	if s.community {
		switch c.kind {
		case cmdShowServers:
			return nil, admin, showServersInCommunity(query)
		case cmdEnableServer, cmdAlterServer, cmdRenameServer, cmdDropServer, cmdDeallocate,
			cmdReallocate, cmdCreateDatabase, cmdAlterDatabaseTopology, cmdAlterDatabaseAccess, cmdDropDatabase:
			return nil, admin, unsupportedInCommunity(query)
		}
	}
	if admin && db != "system" {
		return nil, true, &cypherError{code: codeNotSystemDatabase,
			msg: "This is an administration command and it should be executed against the system database: " + c.verb}
	}
	if s.dbs[db] == nil && db != "system" {
		// Real 5.26's words for a statement sent to an unknown database.
		return nil, true, &cypherError{code: CodeDatabaseNotFound, msg: "Graph not found: " + db}
	}
	if admin && s.notALeader && srv.id != s.sysLeader {
		return nil, true, &cypherError{code: CodeNotALeader, msg: msgNotALeader}
	}
	if admin && s.sysLeader == "" && !s.community {
		// fact: database.raft-leader: without a quorum of system
		// primaries nothing can be written to system.
		return nil, true, &cypherError{code: CodeNotALeader, msg: msgNotALeader}
	}
	res, err := s.run(srv, c, params)
	if res != nil {
		res.db = db
		if res.qtype == "" {
			res.qtype = "r"
			if admin {
				res.qtype = "s"
			}
		}
	}
	return res, admin || (c.kind == cmdCall && localProcs[strings.ToLower(c.proc)]), err
}

// adminProcs are procedures that change cluster state; they are logged and
// need the system database like the admin commands.
var adminProcs = map[string]bool{
	"dbms.cluster.cordonserver":                true,
	"dbms.setdefaultallocationnumbers":         true,
	"dbms.cluster.reallocatenumberofdatabases": true,
	"dbms.cluster.recreatedatabase":            true,
}

// localProcs change the one server they run on (DBMS mode): they are
// logged but run on any database and on any member, leader or not.
var localProcs = map[string]bool{
	"dbms.setconfigvalue":     true,
	"dbms.quarantinedatabase": true,
	// discovery.go: the state is read-only, but the log shows the move's
	// checks in order with the move itself.
	"dbms.cluster.showparalleldiscoverystate": true,
	"dbms.cluster.movetonextdiscoveryversion": true,
	"dbms.security.reloadtls":                 true,
}

// transitionEnd is when a START / STOP issued now finishes.
func (s *Simulator) transitionEnd(wait bool) time.Time {
	if wait {
		return s.now()
	}
	return s.now().Add(s.cfg.TransitionDelay)
}

var quarantineColumns = []string{"databaseName", "quarantined", "result"}

// quarantine is dbms.quarantineDatabase on srv: it changes srv's copy
// only (fact: database.quarantine).
func (s *Simulator) quarantine(srv *simServer, c *command, name string, set bool, reason string) (*result, *cypherError) {
	db := s.dbs[name]
	if db == nil {
		return nil, procedureCallFailed("dbms.quarantineDatabase", fmt.Sprintf("Database '%s' does not exist", name))
	}
	if !slices.ContainsFunc(db.allocs, func(a allocation) bool { return a.server == srv.id }) {
		return nil, procedureCallFailed("dbms.quarantineDatabase", fmt.Sprintf("Database '%s' is not hosted on this server", name))
	}
	res := "done"
	if set {
		if reason == "" {
			reason = "By neo4j at " + s.now().UTC().Format(time.RFC3339)
		}
		if db.quarantined == nil {
			db.quarantined = map[string]string{}
		}
		db.quarantined[srv.id] = reason
	} else {
		delete(db.quarantined, srv.id)
	}
	return project(c, quarantineColumns, quarantineColumns, []map[string]any{{"databaseName": name, "quarantined": set, "result": res}})
}

func evalString(e expr, params map[string]any, what string) (string, *cypherError) {
	v, err := e.eval(params)
	if err != nil {
		return "", err.(*cypherError)
	}
	s, ok := v.(string)
	if !ok {
		return "", &cypherError{code: codeTypeError, msg: fmt.Sprintf("Expected %s to be a STRING but got %v", what, v)}
	}
	return s, nil
}

// dbNameArg evaluates a database name; Neo4j database names are case
// insensitive and stored in lower case.
func dbNameArg(e expr, params map[string]any) (string, *cypherError) {
	s, err := evalString(e, params, "database name")
	return strings.ToLower(s), err
}

func evalAny(e expr, params map[string]any) (any, *cypherError) {
	if e == nil {
		return nil, nil
	}
	v, err := e.eval(params)
	if err != nil {
		return nil, err.(*cypherError)
	}
	return v, nil
}

// project applies a YIELD clause (or the default columns) to rows.
func project(c *command, all, def []string, rows []map[string]any) (*result, *cypherError) {
	cols, names := def, def
	switch {
	case c.yieldAll:
		cols, names = all, all
	case len(c.yield) > 0:
		cols, names = nil, nil
		for _, y := range c.yield {
			if !slices.Contains(all, y.col) {
				return nil, &cypherError{code: CodeSyntaxError, msg: fmt.Sprintf("Variable `%s` not defined", y.col)}
			}
			cols = append(cols, y.col)
			names = append(names, y.alias)
		}
	}
	res := &result{fields: slices.Clone(names)}
	for _, r := range rows {
		row := make([]any, len(cols))
		for i, col := range cols {
			row[i] = r[col]
		}
		res.rows = append(res.rows, row)
	}
	return res, nil
}

func (s *Simulator) run(srv *simServer, c *command, params map[string]any) (*result, *cypherError) {
	switch c.kind {
	case cmdReturn:
		res := &result{}
		row := make([]any, len(c.returns))
		for i, it := range c.returns {
			v, err := evalAny(it.e, params)
			if err != nil {
				return nil, err
			}
			res.fields = append(res.fields, it.name)
			row[i] = v
		}
		res.rows = [][]any{row}
		return res, nil

	case cmdShowServers:
		return project(c, serverColumns, serverDefaultColumns, s.serverRows())

	case cmdShowDatabases:
		rows := s.databaseRows(srv)
		want := ""
		switch {
		case c.showWhich != "":
			want = s.defaultDB
		case c.filter != nil:
			name, err := dbNameArg(c.filter, params)
			if err != nil {
				return nil, err
			}
			want = name
		}
		if want != "" {
			rows = slices.DeleteFunc(rows, func(r map[string]any) bool { return r["name"] != want })
		}
		return project(c, databaseColumns, databaseDefaultColumns, rows)

	case cmdShowSettings:
		var names []string
		if c.filter != nil {
			v, err := evalAny(c.filter, params)
			if err != nil {
				return nil, err
			}
			switch x := v.(type) {
			case string:
				names = []string{x}
			case []any:
				for _, e := range x {
					if s, ok := e.(string); ok {
						names = append(names, s)
					}
				}
			}
		}
		set := s.settingsFor(srv)
		var rows []map[string]any
		for _, k := range slices.Sorted(maps.Keys(set)) {
			if names != nil && !slices.Contains(names, k) {
				continue
			}
			v := set[k]
			rows = append(rows, map[string]any{
				"name": k, "value": orNull(v.value), "isDynamic": v.dynamic, "defaultValue": orNull(v.def), "description": v.desc,
				"startupValue": orNull(v.startup), "isExplicitlySet": v.set || v.value != v.def, "validValues": v.valid, "isDeprecated": false,
			})
		}
		return project(c, settingColumns, settingDefaultColumns, rows)

	case cmdCall:
		return s.call(srv, c, params)

	case cmdEnableServer, cmdAlterServer, cmdRenameServer, cmdDropServer:
		ref, err := evalString(c.servers[0], params, "server name")
		if err != nil {
			return nil, err
		}
		switch c.kind {
		case cmdEnableServer:
			opts, err := evalAny(c.options, params)
			if err != nil {
				return nil, err
			}
			err = s.enableServer(ref, opts, c.options != nil)
			return &result{}, err
		case cmdAlterServer:
			opts, err := evalAny(c.options, params)
			if err != nil {
				return nil, err
			}
			return &result{}, s.alterServer(ref, opts)
		case cmdRenameServer:
			to, err := evalString(c.newName, params, "server name")
			if err != nil {
				return nil, err
			}
			return &result{}, s.renameServer(ref, to)
		default:
			return &result{}, s.dropServer(ref)
		}

	case cmdDeallocate:
		var refs []string
		for _, e := range c.servers {
			v, err := evalAny(e, params)
			if err != nil {
				return nil, err
			}
			switch x := v.(type) {
			case string:
				refs = append(refs, x)
			case []any:
				for _, y := range x {
					if s, ok := y.(string); ok {
						refs = append(refs, s)
					}
				}
			default:
				return nil, &cypherError{code: codeTypeError, msg: fmt.Sprintf("Expected server name to be a STRING but got %v", v)}
			}
		}
		moves, err := s.deallocate(refs, c.dryRun)
		if err != nil {
			return nil, err
		}
		if !c.dryRun {
			return &result{}, nil
		}
		return project(&command{yieldAll: true}, moveColumns, moveColumns, moveRows(moves))

	case cmdReallocate:
		moves := s.reallocate(c.dryRun)
		if !c.dryRun {
			return &result{}, nil
		}
		return project(&command{yieldAll: true}, moveColumns, moveColumns, moveRows(moves))

	case cmdCreateDatabase:
		name, err := dbNameArg(c.database, params)
		if err != nil {
			return nil, err
		}
		p, sec := s.defaultPrimaries, s.defaultSecondaries
		if c.primaries != nil {
			v, err := evalAny(c.primaries, params)
			if err != nil {
				return nil, err
			}
			if p, err = intArg(v, "primaries"); err != nil {
				return nil, err
			}
			sec = 0
		}
		if c.secondary != nil {
			v, err := evalAny(c.secondary, params)
			if err != nil {
				return nil, err
			}
			if sec, err = intArg(v, "secondaries"); err != nil {
				return nil, err
			}
		}
		var options map[string]any
		if c.options != nil {
			v, err := evalAny(c.options, params)
			if err != nil {
				return nil, err
			}
			m, ok := v.(map[string]any)
			if !ok {
				return nil, &cypherError{code: codeTypeError, msg: fmt.Sprintf("Expected OPTIONS to be a map but got %v", v)}
			}
			options = m
		}
		rows, err := s.createDatabase(name, c.orReplace, c.ifNotExist, p, sec, options, c.wait)
		if err != nil {
			return nil, err
		}
		if c.wait {
			return project(&command{yieldAll: true}, waitColumns, waitColumns, rows)
		}
		return &result{}, nil

	case cmdAlterDatabaseTopology:
		name, err := dbNameArg(c.database, params)
		if err != nil {
			return nil, err
		}
		pv, err := evalAny(c.primaries, params)
		if err != nil {
			return nil, err
		}
		sv, err := evalAny(c.secondary, params)
		if err != nil {
			return nil, err
		}
		p, err := intArg(pv, "primaries")
		if err != nil {
			return nil, err
		}
		if c.primaries == nil {
			if db := s.dbs[name]; db != nil {
				p = db.primaries
			}
		}
		sec, err := intArg(sv, "secondaries")
		if err != nil {
			return nil, err
		}
		return &result{}, s.alterTopology(name, c.ifExists, p, sec, c.secondary != nil)

	case cmdAlterDatabaseAccess, cmdDropDatabase, cmdStartDatabase, cmdStopDatabase:
		name, err := dbNameArg(c.database, params)
		if err != nil {
			return nil, err
		}
		action := map[cmdKind]string{cmdAlterDatabaseAccess: "alter", cmdDropDatabase: "delete", cmdStartDatabase: "start", cmdStopDatabase: "stop"}[c.kind]
		if name == "system" {
			return nil, &cypherError{code: codeForbiddenReadOnly, msg: fmt.Sprintf("Failed to %s the specified database '%s': the system database cannot be modified this way.", action, name)}
		}
		db := s.dbs[name]
		if db == nil {
			if c.ifExists {
				return &result{}, nil
			}
			return nil, databaseNotFound(action, name)
		}
		switch c.kind {
		case cmdAlterDatabaseAccess:
			db.readOnly = c.readOnly
		case cmdDropDatabase:
			delete(s.dbs, name)
		case cmdStartDatabase:
			// fact: database.start-stop: starting until the transition
			// is over (WAIT: at once); quarantined copies stay so.
			db.stopped, db.statusMsg, db.started = false, "", s.now()
			db.changeAt = s.transitionEnd(c.wait)
		case cmdStopDatabase:
			if !db.stopped {
				db.stopped, db.stoppedAt = true, s.now()
				db.changeAt = s.transitionEnd(c.wait)
			}
		}
		return &result{}, nil
	}
	return nil, &cypherError{code: CodeSyntaxError, msg: "unsupported statement"}
}

// orNull reports an unset setting value as null, as Neo4j does.
func orNull(v string) any {
	if v == "" {
		return nil
	}
	return v
}

var waitColumns = []string{"address", "state", "message", "success"}

var componentsColumns = []string{"name", "versions", "edition"}

func (s *Simulator) call(srv *simServer, c *command, params map[string]any) (*result, *cypherError) {
	args := make([]any, len(c.args))
	for i, a := range c.args {
		v, err := evalAny(a, params)
		if err != nil {
			return nil, err
		}
		args[i] = v
	}
	arg := func(i int) any {
		if i < len(args) {
			return args[i]
		}
		return nil
	}
	name := strings.ToLower(c.proc)
	if s.community && strings.HasPrefix(name, "dbms.cluster.") || s.community && name == "dbms.setdefaultallocationnumbers" {
		return nil, procedureNotFound(c.proc)
	}
	if res, err, ok := s.lifecycleCall(srv, c, name); ok {
		return res, err
	}
	switch name {
	case "dbms.cluster.recreatedatabase": // seed.go
		return s.recreateDatabase(arg(0), arg(1))
	case "dbms.components":
		edition := "enterprise"
		if s.community {
			edition = "community"
		}
		return project(c, componentsColumns, componentsColumns, []map[string]any{{
			"name": "Neo4j Kernel", "versions": []any{srv.version}, "edition": edition,
		}})

	case "dbms.listconfig":
		search, _ := arg(0).(string)
		set := s.settingsFor(srv)
		var rows []map[string]any
		for _, k := range slices.Sorted(maps.Keys(set)) {
			if search != "" && !strings.Contains(strings.ToLower(k), strings.ToLower(search)) {
				continue
			}
			v := set[k]
			rows = append(rows, map[string]any{
				"name": k, "description": v.desc, "value": orNull(v.value), "dynamic": v.dynamic, "defaultValue": orNull(v.def),
				"startupValue": orNull(v.startup), "explicitlySet": v.set || v.value != v.def, "validValues": v.valid,
			})
		}
		return project(c, listConfigColumns, listConfigColumns, rows)

	case "dbms.cluster.statuscheck":
		var dbs []string
		switch x := arg(0).(type) {
		case []any:
			for _, e := range x {
				if s, ok := e.(string); ok {
					dbs = append(dbs, s)
				}
			}
		case string:
			dbs = []string{x}
		}
		return project(c, statusCheckColumns, statusCheckColumns, s.statusCheckRows(srv, dbs))

	case "dbms.cluster.cordonserver":
		ref, ok := arg(0).(string)
		if !ok {
			return nil, &cypherError{code: codeTypeError, msg: "Expected server name to be a STRING"}
		}
		return &result{}, s.cordonServer(ref)

	case "dbms.setconfigvalue":
		name, ok1 := arg(0).(string)
		value, ok2 := arg(1).(string)
		if !ok1 || !ok2 {
			return nil, &cypherError{code: codeTypeError, msg: "Expected setting and value to be STRINGs"}
		}
		return &result{}, s.setConfigValue(srv, name, value)

	case "dbms.quarantinedatabase":
		name, ok1 := arg(0).(string)
		set, ok2 := arg(1).(bool)
		if !ok1 || !ok2 {
			return nil, &cypherError{code: codeTypeError, msg: "Expected databaseName to be a STRING and setStatus a BOOLEAN"}
		}
		reason, _ := arg(2).(string)
		return s.quarantine(srv, c, strings.ToLower(name), set, reason)

	case "dbms.setdefaultallocationnumbers":
		p, err := intArg(arg(0), "primaries")
		if err != nil {
			return nil, err
		}
		sec, err := intArg(arg(1), "secondaries")
		if err != nil {
			return nil, err
		}
		s.defaultPrimaries, s.defaultSecondaries = p, sec
		return &result{}, nil

	case "dbms.cluster.reallocatenumberofdatabases":
		n, err := intArg(arg(0), "numberOfDatabases")
		if err != nil {
			return nil, err
		}
		dry, _ := arg(1).(bool)
		// At most n databases, with every move of each
		// (fact: procedure/dbms.cluster.reallocatenumberofdatabases).
		var kept []move
		dbs := map[string]bool{}
		for _, m := range s.reallocate(true) {
			if !dbs[m.db] && len(dbs) == n {
				continue
			}
			dbs[m.db] = true
			kept = append(kept, m)
		}
		moves := kept
		if !dry {
			s.applyMoves(moves, s.now().Add(s.cfg.TransitionDelay))
		}
		return project(&command{yieldAll: true}, moveColumns, moveColumns, moveRows(moves))
	}
	return nil, procedureNotFound(c.proc)
}
