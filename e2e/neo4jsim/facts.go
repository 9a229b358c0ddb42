package neo4jsim

import (
	"fmt"
	"strings"
)

// Fact is one Neo4j behaviour the simulator models, with the page and
// section of the Neo4j 5.26 Operations Manual (or, for status codes, the
// Neo4j Status Codes reference) it follows. The table is the simulator's
// only licence for a behaviour: code that models one carries a
// "fact: <key>" comment naming its row, every statement, procedure and
// status code the simulator answers with has a row, and facts_test.go fails
// when one is missing. docs/neo4j.md renders the same table for people.
type Fact struct {
	// Key names the row: "statement/<VERB>", "procedure/<name>",
	// "status/<code>" or a behaviour ("server.lifecycle").
	Key string
	// Models says what the simulator does.
	Models string
	// Source is the manual page and section followed.
	Source string
}

// Sources are cited by page path (modules/ROOT/pages/… in
// github.com/neo4j/docs-operations, branch 5.x) and section title; status
// codes by github.com/neo4j/docs-status-codes, branch 5.x.
const (
	srcServers      = "Operations Manual 5.26, clustering/servers.adoc"
	srcServerSyntax = "Operations Manual 5.26, clustering/server-syntax.adoc"
	srcDatabases    = "Operations Manual 5.26, clustering/databases.adoc"
	srcIntro        = "Operations Manual 5.26, clustering/introduction.adoc"
	srcDeploy       = "Operations Manual 5.26, clustering/setup/deploy.adoc"
	srcStatusCheck  = "Operations Manual 5.26, clustering/monitoring/status-check.adoc"
	srcShowDBsMon   = "Operations Manual 5.26, clustering/monitoring/show-databases-monitoring.adoc"
	srcListing      = "Operations Manual 5.26, database-administration/standard-databases/listing-databases.adoc"
	srcCreateDB     = "Operations Manual 5.26, database-administration/standard-databases/create-databases.adoc"
	srcAlterDB      = "Operations Manual 5.26, database-administration/standard-databases/alter-databases.adoc"
	srcDeleteDB     = "Operations Manual 5.26, database-administration/standard-databases/delete-databases.adoc"
	srcDBErrors     = "Operations Manual 5.26, database-administration/standard-databases/errors.adoc"
	srcDBSyntax     = "Operations Manual 5.26, database-administration/syntax.adoc"
	srcProcedures   = "Operations Manual 5.26, procedures/built-in-procedures.adoc"
	srcDynamic      = "Operations Manual 5.26, configuration/dynamic-settings.adoc"
	srcShowSettings = "Operations Manual 5.26, configuration/show-settings.adoc"
	srcSettingsRef  = "Operations Manual 5.26, configuration/configuration-settings.adoc"
	srcNeo4jConf    = "Operations Manual 5.26, configuration/neo4j-conf.adoc"
	srcDocker       = "Operations Manual 5.26, docker/configuration.adoc"
	srcSSL          = "Operations Manual 5.26, security/ssl-framework.adoc"
	srcDR           = "Operations Manual 5.26, clustering/multi-region-deployment/disaster-recovery.adoc"
	srcStatusCodes  = "Neo4j Status Codes 5, errors/all-errors.adoc"
	srcGQLCodes     = "Neo4j Status Codes 5, errors/gql-errors.adoc"
	srcRecorded     = "recorded from real Community 5.26 (e2e/contract/testdata/community-5.26.json)"
)

// Facts is the simulator's facts table.
var Facts = []Fact{
	// Server lifecycle and SHOW SERVERS.
	{"server.lifecycle", "Servers move Free → Enabled → Cordoned / Deallocating → Deallocated → Dropped; Deallocating is irreversible; only Enabled servers are given new allocations.",
		srcServers + " § Server lifecycle (Free, Enabled, Cordoned, Deallocating, Deallocated, Dropped states)"},
	{"server.free-hosts-system", "A Free server hosts only system (requestedHosting empty) and is not given user databases until enabled.",
		srcServers + " § Showing servers (SHOW SERVERS YIELD * example); § Free state"},
	{"server.bootstrap", "The first servers of a new deployment whose system_database_mode is PRIMARY form the cluster and are Enabled automatically (as many as dbms.cluster.minimum_initial_system_primaries_count asks); servers added later join Free unless initial.dbms.automatically_enable_free_servers is true.",
		srcServers + " § Enabled state; " + srcDeploy + " § Configure a cluster (minimum_initial_system_primaries_count)"},
	{"server.enable-defaults", "ENABLE SERVER without OPTIONS takes the server's initial.server.mode_constraint, initial.server.allowed_databases / denied_databases and initial.server.tags from the configuration it started with; OPTIONS override them.",
		srcServers + " § Enabled state (NOTE: default values taken from the settings)"},
	{"server.system-mode", "Whether a server hosts system as a primary or a secondary is its own server.cluster.system_database_mode, read when it starts (default PRIMARY) — never its join order.",
		srcDatabases + " § The system database in a cluster; " + srcIntro + " § Primaries and secondaries for the system database; " + srcSettingsRef + " § server.cluster.system_database_mode"},
	{"server.config-at-start", "Each server reads its configuration (neo4j.conf from the ConfigMap its Pod mounts, then NEO4J_* environment variables, as the Docker image's entrypoint writes them into neo4j.conf) when it (re)starts; a later ConfigMap change reaches a server only when it restarts.",
		srcNeo4jConf + " § neo4j.conf conventions; " + srcDocker + " § Environment variables (NEO4J_ prefix, . → _, _ → __)"},
	{"server.version", "SHOW SERVERS version and dbms.components report the version of the binary the server runs: its Pod's image tag (edition suffix dropped) at its last (re)start.",
		srcServers + " § Showing servers (version: Neo4j version the server is running)"},
	{"server.identity", "A server's id lives in its data volume: a restarted Pod on the same PVC is the same server; a new volume is a new server; a dropped server never rejoins.",
		srcServers + " § Dropped state (NOTE: reset the installation or neo4j-admin server unbind for a new server ID)"},
	{"server.health", "health is what the other members see: Available or Unavailable, independent of Kubernetes readiness; an Unavailable server hosts nothing.",
		srcServers + " § Error handling (Unavailable in the health column; Available does not mean functioning perfectly)"},
	{"server.dropped-row", "A Dropped server stays listed (health Available, hosting [system]) while its process runs and disappears once it stops.",
		srcServers + " § Dropped state; § Showing servers (the Dropped row of the example)"},
	{"server.alter-replaces-options", "ALTER SERVER SET OPTIONS replaces all options; options it does not name are reset.",
		srcServers + " § Altering server options (IMPORTANT: replaces all existing options)"},
	{"server.alter-moves", "ALTER SERVER options that forbid a database (or role) the server hosts move that allocation to another server; if the cluster cannot hold the topology without it, the command fails and nothing changes.",
		srcServers + " § Altering server options (foo is forced to move; fails if topologies cannot be satisfied)"},
	{"server.cordon", "A cordoned server keeps its databases and takes no new ones; ENABLE SERVER uncordons it; allocations on cordoned servers are removed first when a topology shrinks.",
		srcServers + " § Cordoned state; § Error handling"},
	{"server.deallocate-refusals", "DEALLOCATE is refused (nothing changes) when a hosted database is offline, when the server holds a database's only primary, when a quorum of a database's primary hosts is cordoned, or when the remaining servers cannot hold a topology.",
		srcServers + " § Deallocating databases from a server (NOTE: Deallocation is currently prevented in the following situations)"},
	{"server.deallocate-moves", "DEALLOCATE moves each allocation to another server; the database keeps running on the old server (currentStatus deallocating) until its copy is online elsewhere; then the server is Deallocated.",
		srcServers + " § Dropping a server (foo must be copied and started on a new server before it is stopped)"},
	{"server.unavailable-allocatable", "An Unavailable server that is not cordoned may still be given new allocations (it catches up when it returns); the simulator's allocator uses it only when no available server fits, and REALLOCATE moves copies only between available servers.",
		srcServers + " § Error handling (NOTE: an unavailable server which has not been cordoned may still be allocated)"},
	{"server.lost-removal", "An Unavailable (lost) server can be cordoned and deallocated — its databases move if they are still write-available — but cannot finish deallocating while it is gone: it stays Deallocating, and DROP SERVER accepts it so.",
		srcDR + " § Make servers available (cordon each Unavailable server; DEALLOCATE; DROP SERVER for each deallocating or deallocated server)"},
	{"server.drop", "DROP SERVER is refused unless the server is Deallocated.",
		srcServers + " § Dropping a server"},

	// Databases.
	{"database.allocation", "CREATE / ALTER DATABASE allocate primaries and secondaries on Enabled servers whose modeConstraint and allowed/denied databases permit them, least-loaded first, or fail when the servers cannot satisfy the topology.",
		srcDatabases + " § Create databases; § Alter database topology"},
	{"database.many-to-one-primary", "ALTER DATABASE … SET TOPOLOGY from several primaries to one is refused.",
		srcDatabases + " § Alter database topology (not possible to automatically transition to a single primary)"},
	{"database.reallocate", "REALLOCATE DATABASES and dbms.cluster.reallocateNumberOfDatabases(n) move allocations from the busiest to the idlest Enabled servers until balanced; on a balanced cluster they move nothing; DRYRUN / dryrun=true only report the moves.",
		srcDatabases + " § Reallocate databases (using a procedure; using a Cypher command)"},
	{"database.raft-leader", "A database (system included) has a leader, and so a writer and write routing, only while a simple majority of its primaries is available; otherwise it has no leader.",
		srcIntro + " (A database remains available for writes as long as a simple majority of its primary allocations are functioning); § Three primaries"},
	{"database.status", "currentStatus is online, offline, starting, stopping, store copying, deallocating, quarantined or unknown; requestedStatus is online or offline; an allocation on an unavailable server is unknown with statusMessage \"Server is unavailable\" and a null address.",
		srcShowDBsMon + " § (Returns; databases hosted on servers that are offline); " + srcListing + " § Database states"},
	{"database.start-stop", "STOP DATABASE sets requestedStatus offline and the allocations go stopping → offline; START DATABASE sets it online and they go starting → online; transitions take TransitionDelay.",
		srcDBSyntax + " § Start a database, § Stop a database; " + srcListing + " § Database states"},
	{"database.quarantine", "dbms.quarantineDatabase(db, true[, reason]) quarantines the database on the server it runs on only: that allocation is quarantined (statusMessage the reason) and START DATABASE does not change it; dbms.quarantineDatabase(db, false) lifts it and the allocation returns to the requested status.",
		srcDBErrors + " § Quarantined databases"},
	{"database.transition-time", "Asynchronous work (store copy, deallocation, start, stop) takes Config.TransitionDelay; WAIT makes CREATE DATABASE return only when done.",
		srcDBErrors + " § Observing errors (operations are asynchronous); " + "Operations Manual 5.26, database-administration/standard-databases/wait-options.adoc"},
	{"statement.interrupted-continues", "An administration command whose client stops waiting (its deadline, a closed connection) is not aborted: it takes effect as if the client had waited (SlowNext fault: effect and answer delayed apart).",
		"Operations Manual 5.26, database-administration/standard-databases/wait-options.adoc (NOTE: a command interrupted whilst waiting to complete continues to execute in the background and is not aborted)"},

	// Settings.
	{"settings.per-server", "SHOW SETTINGS and dbms.listConfig answer with the settings of the server they run on.",
		srcShowSettings + "; " + srcDynamic + " (NOTE: setConfigValue affects only the member it is run against)"},
	{"settings.all-listed", "An Enterprise server reports every dynamic setting in SHOW SETTINGS whether or not its configuration sets it, with its default (null where the simulator records none), so dbms.setConfigValue can change one nobody configured.",
		srcDynamic + " § Discover dynamic settings (SHOW SETTINGS … WHERE isDynamic lists every dynamic setting, none of them configured); " + srcSettingsRef + " § db.logs.query.threshold (Default value 0s)"},
	{"settings.dynamic", "dbms.setConfigValue changes a dynamic setting on the server it runs on only, until that server restarts; a setting that is not dynamic, or unknown, is refused; an empty value resets to the default.",
		srcDynamic + " § Update dynamic settings; " + srcProcedures + " § dbms.setConfigValue()"},

	// Routing and leadership reports.
	{"database.replication-lag", "SHOW DATABASES replicationLag is how many transactions a copy is behind the database's writer, as a negative integer (0 on the writer); NULL unless the copy is online or deallocating; lastCommittedTxn is that much lower. Tests make a copy lag with SetReplicationLag.",
		srcListing + " § SHOW DATABASES output (replicationLag: negative integers; NULL unless online or deallocating); " + srcShowDBsMon + " § Listing more details about databases (replicationLag: the difference between this server and the writer; persistently high may be a problem)"},
	{"status-check", "dbms.cluster.statusCheck reports one row per primary member with the leader it recognises and its term (members that disagree are resolved by the highest term); memberStatus is APPLYING, REPLICATING (its copy still being copied or started) or UNAVAILABLE (unreachable), never a Raft role; requester marks the server the procedure ran on; replicationSuccessful is the requester's own result, the same in every row of a database (a leader and a majority of members reachable); an empty list runs it for the clustered databases the requester hosts as a primary only (no singles, no secondaries).",
		srcStatusCheck + " § Input arguments; § Return arguments; § Possible values of replicationSuccessful; § Possible values of memberStatus; § Possible values of requester; § Example"},

	// Transport.
	{"bolt.tls", "With Config.TLS every Bolt listener requires TLS and presents the given certificate: a plaintext Bolt client fails the handshake and is disconnected; +s clients verify the certificate, +ssc clients accept it unchecked.",
		srcSSL + " § Configure SSL over Bolt (server.bolt.tls_level=REQUIRED: only encrypted connections accepted); § Connect with SSL over Bolt (+s full certificate check, +ssc none)"},
	// Statements.
	{"statement/RETURN", "Evaluates literals and parameters (driver connectivity checks).", "Cypher Manual 5, clauses/return.adoc"},
	{"statement/SHOW SERVERS", "Columns, default columns and values as documented.", srcServers + " § Showing servers; " + srcServerSyntax + " § Show servers"},
	{"statement/SHOW DATABASES", "One row per allocation; columns and default columns as documented.", srcListing + " § SHOW DATABASES output"},
	{"statement/SHOW SETTINGS", "Columns as documented, per server.", srcShowSettings},
	{"statement/CALL", "Procedures listed under procedure/*; an unknown one is ProcedureNotFound.", srcProcedures},
	{"statement/ENABLE SERVER", "Free → Enabled with OPTIONS (or the initial.server.* defaults); idempotent for equal options; Cordoned → Enabled.", srcServers + " § Enabled state; § Error handling"},
	{"statement/ALTER SERVER", "Replaces all options, moving allocations the new options forbid.", srcServers + " § Altering server options"},
	{"statement/RENAME SERVER", "Renames; names are unique.", srcServers + " § Renaming a server"},
	{"statement/DEALLOCATE DATABASES", "See server.deallocate-refusals and server.deallocate-moves.", srcServers + " § Deallocating databases from a server"},
	{"statement/DRYRUN DEALLOCATE DATABASES", "Reports the moves (database, from/to server, mode) without changing anything.", srcServers + " § Deallocating databases from a server (DRYRUN example)"},
	{"statement/REALLOCATE DATABASES", "See database.reallocate.", srcDatabases + " § Reallocate databases using a Cypher command"},
	{"statement/DRYRUN REALLOCATE DATABASES", "Reports the moves without changing anything.", srcDatabases + " § Reallocate databases using a Cypher command (DRYRUN example)"},
	{"statement/DROP SERVER", "See server.drop.", srcServers + " § Dropping a server"},
	{"statement/CREATE DATABASE", "[OR REPLACE] [IF NOT EXISTS] [TOPOLOGY] [OPTIONS] [WAIT|NOWAIT]; default topology from initial.dbms.default_primaries_count / dbms.setDefaultAllocationNumbers.", srcCreateDB + "; " + srcDatabases + " § Create databases"},
	{"statement/ALTER DATABASE SET TOPOLOGY", "See database.allocation and database.many-to-one-primary.", srcAlterDB + "; " + srcDatabases + " § Alter database topology"},
	{"statement/ALTER DATABASE SET ACCESS", "read-only / read-write in the access column.", srcAlterDB + "; " + srcDatabases + " § Alter database access"},
	{"statement/DROP DATABASE", "[IF EXISTS] [DUMP|DESTROY DATA].", srcDeleteDB},
	{"statement/START DATABASE", "See database.start-stop.", srcDBSyntax + " § Start a database"},
	{"statement/STOP DATABASE", "See database.start-stop.", srcDBSyntax + " § Stop a database"},

	// Procedures (lower case, as matched).
	{"procedure/dbms.components", "name, versions (the server's version), edition.", srcProcedures + " § dbms.components()"},
	{"procedure/dbms.listconfig", "Settings of the server it runs on.", srcProcedures + " § dbms.listConfig()"},
	{"procedure/dbms.cluster.statuscheck", "See status-check.", srcProcedures + " § dbms.cluster.statusCheck(); " + srcStatusCheck},
	{"procedure/dbms.cluster.cordonserver", "See server.cordon.", srcProcedures + " § dbms.cluster.cordonServer(); " + srcServers + " § Cordoned state"},
	{"procedure/dbms.setdefaultallocationnumbers", "Default topology of later CREATE DATABASE.", srcProcedures + " § dbms.setDefaultAllocationNumbers(); " + srcDatabases + " § Create databases"},
	{"procedure/dbms.cluster.reallocatenumberofdatabases", "See database.reallocate; moves the allocations of at most n user databases (\"Reallocate a specified number of user databases\"; number: \"The number of databases to reallocate\").", srcProcedures + " § dbms.cluster.reallocateNumberOfDatabases(); " + srcDatabases + " § Reallocate databases using a procedure"},
	{"procedure/dbms.setconfigvalue", "See settings.dynamic.", srcProcedures + " § dbms.setConfigValue(); " + srcDynamic},
	{"procedure/dbms.quarantinedatabase", "See database.quarantine; returns databaseName, quarantined, result.", srcProcedures + " § dbms.quarantineDatabase(); " + srcDBErrors + " § Quarantined databases"},

	// Status codes (Neo4j codes, then GQL statuses).
	{"user.alter-current-password", "Changes the logged-in user's password (old and new as literals or parameters), on system only; a wrong old password or an unchanged one is refused with Neo.ClientError.Statement.ArgumentError (what real Community 5.26.30 answers: internal/lifecycle TestRotateAgainstRealNeo4j compares them); connections already open stay authenticated.",
		"Operations Manual, authentication-authorization/manage-users.adoc § Changing the current user's password (and § User management command syntax: ALTER CURRENT USER SET PASSWORD, required privilege: none)"},
	{"status/Neo.ClientError.Security.Unauthorized", "Wrong credentials.", srcStatusCodes + " § Client errors"},
	{"status/Neo.ClientError.Statement.SyntaxError", "A statement the parser does not accept.", srcStatusCodes + " § Client errors"},
	{"status/Neo.ClientError.Statement.UnsupportedAdministrationCommand", "Cluster commands on Community.", srcStatusCodes + " § Client errors; " + srcRecorded},
	{"status/Neo.ClientError.Statement.ArgumentError", "Topology and server commands Neo4j refuses (with GQL 51N41), bad options.", srcStatusCodes + " § Client errors"},
	{"status/Neo.TransientError.General.DatabaseUnavailable", "A database that cannot serve the request now (FailNext fault).", srcStatusCodes + " § Transient errors"},
	{"status/Neo.ClientError.Cluster.NotALeader", "A write reached a member that is not the leader.", srcStatusCodes + " § Client errors"},
	{"status/Neo.ClientError.Database.DatabaseNotFound", "An unknown database.", srcStatusCodes + " § Client errors; " + srcRecorded},
	{"status/Neo.ClientError.Database.ExistingDatabaseFound", "CREATE DATABASE of an existing name.", srcStatusCodes + " § Client errors"},
	{"status/Neo.ClientError.Procedure.ProcedureNotFound", "An unknown procedure.", srcStatusCodes + " § Client errors; " + srcRecorded},
	{"status/Neo.ClientError.Procedure.ProcedureCallFailed", "A procedure that refuses its arguments (setConfigValue of a static or unknown setting).", srcStatusCodes + " § Client errors; " + srcDynamic + " § Update dynamic settings (Exceptions)"},
	{"status/Neo.ClientError.Request.Invalid", "A malformed Bolt request.", srcStatusCodes + " § Client errors"},
	{"status/Neo.ClientError.Statement.ParameterMissing", "A statement names a parameter that was not sent.", srcStatusCodes + " § Client errors"},
	{"status/Neo.ClientError.Statement.TypeError", "An argument of the wrong type.", srcStatusCodes + " § Client errors"},
	{"status/Neo.ClientError.General.InvalidArguments", "Invalid arguments.", srcStatusCodes + " § Client errors"},
	{"status/Neo.ClientError.General.ForbiddenOnReadOnlyDatabase", "Changing system as a standard database.", srcStatusCodes + " § Client errors"},
	{"status/Neo.ClientError.Statement.NotSystemDatabaseError", "An administration command sent to a database other than system.", srcStatusCodes + " § Client errors; " + srcRecorded},
	{"status/51N41", "Admin operation failed (topology and server commands refused).", srcGQLCodes + " § 51N41"},
	{"status/42N85", "allowedDatabases and deniedDatabases are mutually exclusive.", srcGQLCodes + " § 42N85"},
	{"status/42N11", "Graph reference already exists.", srcGQLCodes + " § 42N11"},
	{"status/22N51", "Database does not exist.", srcGQLCodes + " § 22N51"},
	{"status/42001", "Invalid syntax (also the wrapper of 42N08).", srcGQLCodes + " § 42001"},
	{"status/42N08", "No such procedure or function.", srcGQLCodes + " § 42N08"},
	{"status/50N42", "Unexpected error (the fallback 5.26 sends without a specific status).", srcGQLCodes + " § 50N42; " + srcRecorded},
	{"status/50N00", "Internal error (DatabaseUnavailable).", srcGQLCodes + " § 50N00"},
	{"status/42NFF", "Permission/access denied.", srcGQLCodes + " § 42NFF"},
	{"status/52N02", "Procedure execution client error (setConfigValue refusals).", srcGQLCodes + " § 52N02"},
	// Restore (seed.go).
	{"database.seed-from-uri", "CREATE DATABASE … OPTIONS {existingData: 'use', seedURI} and recreate with a seedURI succeed whatever the URI; the seed is read as the database starts, and an unreadable one leaves it offline with statusMessage \"Unable to start database `DatabaseId{…}`\".",
		"Operations Manual 5.26, database-administration/standard-databases/seed-from-uri.adoc (\"Download and validation of the seed is only performed as the new database is started\"); " + srcDatabases + " § Restore a database from a URI"},
	{"procedure/dbms.cluster.recreatedatabase", "Replaces every allocation's store from options.seedURI (or the current allocations), with options.primaries/secondaries or the database's topology; starts the database whatever its state; keeps its privileges; seedingServers with a seedURI is refused.",
		srcProcedures + " § dbms.cluster.recreateDatabase(); Operations Manual 5.26, database-administration/standard-databases/recreate-database.adoc; " + srcDatabases + " § Restore a database using the dbms.recreateDatabase() procedure (the page writes the 2025.04 name)"},

	// Discovery service v1 → v2 (discovery.go).
	{"discovery.mode", "A 5.x server runs the discovery mode its dbms.cluster.discovery.version names when it starts (default V1_ONLY); the move procedure changes it until the next restart, which starts it with its configuration's again (\"The switching using procedures does not persist anything to disk\"). 2025.x servers run v2 only.",
		"Operations Manual 5.x, clustering/setup/discovery.adoc § Moving from discovery service v1 to v2 (Procedure for moving an entire cluster, Important); " + srcSettingsRef + " § dbms.cluster.discovery.version (default V1_ONLY)"},
	{"discovery.preparation", "Leaving V1_ONLY fails when a server lacks the v2 setting of its resolver (K8S: dbms.kubernetes.discovery.v2.service_port_name; LIST, DNS, SRV: dbms.cluster.discovery.v2.endpoints); with servers in different modes the move fails too.",
		"Operations Manual 5.x, clustering/setup/discovery.adoc § Preparation; § Procedure for moving an entire cluster (\"One possible reason for failure is that some servers might have had inconsistent dbms.cluster.discovery.version settings\")"},
	{"discovery.removed-2025", "dbms.cluster.showParallelDiscoveryState and dbms.cluster.moveToNextDiscoveryVersion are ProcedureNotFound on 2025.x servers.",
		"Operations Manual (current), breaking-changes.adoc § Procedures removed in Neo4j 2025.01 without replacement"},
	{"procedure/dbms.cluster.showparalleldiscoverystate", "mode, stateComparison, v1ServerCount, v2ServerCount (STRINGs) of the server it runs on: a count is \"N/A\" for a service the server does not run; stateComparison is \"N/A\" with one service, \"Matching\" when every server runs both, else \"States are not matching after …: (score:n)\".",
		"Operations Manual 5.x, clustering/setup/discovery.adoc § Procedure for moving an entire cluster, § Per server procedure (expected results)"},
	{"procedure/dbms.security.reloadtls", "Exists on Enterprise servers from 2025.03 (ProcedureNotFound before and on Community); acts on the server it runs on and returns no rows; logged.",
		"Operations Manual (current), procedures/built-in-procedures.adoc § dbms.security.reloadTLS() (enterprise-edition, admin-only, new-2025.03, mode DBMS); security/ssl-framework.adoc § Certificates rotation"},
	{"procedure/dbms.cluster.movetonextdiscoveryversion", "Moves every server one mode on: V1_ONLY → V1_OVER_V2 → V2_OVER_V1 → V2_ONLY; see discovery.preparation for its failures.",
		"Operations Manual 5.x, clustering/setup/discovery.adoc § Procedure for moving an entire cluster"},
	// The official Helm chart's servers (spec.layout: helm).
	{"helm.advertised-address", "A clustered server Pod of the official Helm chart advertises its release's ClusterIP Service, <release>.<namespace>.svc.<domain>:7687 (the Pod's SERVICE_NEO4J), not a per-Pod name.",
		"Operations Manual 5.26, kubernetes/configuration.adoc (the chart's config values); Neo4j Helm chart 5.17.0 templates/neo4j-config.yaml (server.bolt.advertised_address: $SERVICE_NEO4J)"},
	{"helm.standalone-advertised-address", "A server Pod of the Helm chart whose ConfigMaps set no advertised address (a standalone: the chart sets them only when clustered, minimumClusterSize >= 3) advertises server.default_advertised_address, by default localhost: SHOW SERVERS reports localhost:7687.",
		"Operations Manual 5.26, configuration/configuration-settings.adoc § server.default_advertised_address (default localhost) and § server.bolt.advertised_address (default :7687); Neo4j Helm chart 5.17.0 templates/neo4j-config.yaml (advertised addresses under `if or $clusterEnabled $.Values.analytics.enabled`; dbms.default_advertised_address left commented out)"},
	{"helm.config-directory", "A server Pod of the Helm chart reads its settings from the chart's ConfigMaps mounted as a directory with one file per setting, later sources of the projected volume over earlier ones (-default-config, -user-config, -k8s-config).",
		srcDocker + " § Configuration (NEO4J_CONF directory); Neo4j Helm chart 5.17.0 templates/neo4j-statefulset.yaml (volume neo4j-conf, NEO4J_CONF=/config/)"},
	// DR drill (count.go).
	{"database.count-query", "MATCH (n) RETURN count(n) on a user database answers one row with the node count a test set (SetNodeCount; the simulator holds no graph), only while the database is online; stopped or failed, it is refused with DatabaseUnavailable.",
		"Operations Manual 5.26, database-administration/standard-databases/start-stop-databases.adoc § Stop databases (NOTE: a stopped database is \"completely shut down\" and not available); the status code is the simulator's choice (Neo.TransientError.General.DatabaseUnavailable), not checked against a real server"},
}

// statementFacts names the facts-table row of each statement kind, with
// the DRYRUN variants where a kind has one.
var statementFacts = map[cmdKind][]string{
	cmdReturn:                {"statement/RETURN"},
	cmdShowServers:           {"statement/SHOW SERVERS"},
	cmdShowDatabases:         {"statement/SHOW DATABASES"},
	cmdShowSettings:          {"statement/SHOW SETTINGS"},
	cmdCall:                  {"statement/CALL"},
	cmdEnableServer:          {"statement/ENABLE SERVER"},
	cmdAlterServer:           {"statement/ALTER SERVER"},
	cmdRenameServer:          {"statement/RENAME SERVER"},
	cmdDeallocate:            {"statement/DEALLOCATE DATABASES", "statement/DRYRUN DEALLOCATE DATABASES"},
	cmdReallocate:            {"statement/REALLOCATE DATABASES", "statement/DRYRUN REALLOCATE DATABASES"},
	cmdDropServer:            {"statement/DROP SERVER"},
	cmdCreateDatabase:        {"statement/CREATE DATABASE"},
	cmdAlterDatabaseTopology: {"statement/ALTER DATABASE SET TOPOLOGY"},
	cmdAlterDatabaseAccess:   {"statement/ALTER DATABASE SET ACCESS"},
	cmdDropDatabase:          {"statement/DROP DATABASE"},
	cmdStartDatabase:         {"statement/START DATABASE"},
	cmdStopDatabase:          {"statement/STOP DATABASE"},
}

// factIndex maps keys to rows.
var factIndex = func() map[string]Fact {
	m := make(map[string]Fact, len(Facts))
	for _, f := range Facts {
		m[f.Key] = f
	}
	return m
}()

// LookupFact returns the row with the given key.
func LookupFact(key string) (Fact, bool) {
	f, ok := factIndex[key]
	return f, ok
}

// FactsMarkdown renders the table as docs/neo4j.md embeds it.
func FactsMarkdown() string {
	var b strings.Builder
	b.WriteString("| key | the simulator | source |\n|---|---|---|\n")
	esc := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	for _, f := range Facts {
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", esc(f.Key), esc(f.Models), esc(f.Source))
	}
	return b.String()
}
