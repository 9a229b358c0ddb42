package state

// Server lifecycle states as SHOW SERVERS reports them.
const (
	ServerFree         = "Free"
	ServerEnabled      = "Enabled"
	ServerCordoned     = "Cordoned"
	ServerDeallocating = "Deallocating"
	ServerDeallocated  = "Deallocated"
	ServerDropped      = "Dropped"

	HealthAvailable   = "Available"
	HealthUnavailable = "Unavailable"
)

// Server is one row of SHOW SERVERS YIELD *. ID (serverId) is the key: names
// and addresses change, the id never does.
type Server struct {
	ID               string   `json:"serverId"`
	Name             string   `json:"name"`
	Address          string   `json:"address,omitempty"`
	HTTPAddress      string   `json:"httpAddress,omitempty"`
	HTTPSAddress     string   `json:"httpsAddress,omitempty"`
	State            string   `json:"state"`
	Health           string   `json:"health"`
	Hosting          []string `json:"hosting"`
	RequestedHosting []string `json:"requestedHosting"`
	Tags             []string `json:"tags"`
	AllowedDatabases []string `json:"allowedDatabases"`
	DeniedDatabases  []string `json:"deniedDatabases"`
	ModeConstraint   string   `json:"modeConstraint"`
	Version          string   `json:"version,omitempty"`
}

// DatabaseAllocation is one row of SHOW DATABASES YIELD *: one database on
// one server.
type DatabaseAllocation struct {
	Name                 string         `json:"name"`
	Type                 string         `json:"type"`
	Aliases              []string       `json:"aliases"`
	Access               string         `json:"access"` // "read-write" or "read-only"
	Address              string         `json:"address,omitempty"`
	Role                 string         `json:"role,omitempty"` // primary, secondary, unknown
	Writer               bool           `json:"writer"`
	RequestedStatus      string         `json:"requestedStatus"`
	CurrentStatus        string         `json:"currentStatus"`
	StatusMessage        string         `json:"statusMessage,omitempty"`
	Default              bool           `json:"default"`
	Home                 bool           `json:"home"`
	DatabaseID           string         `json:"databaseID,omitempty"`
	ServerID             string         `json:"serverID,omitempty"`
	CurrentPrimaries     int64          `json:"currentPrimariesCount"`
	CurrentSecondaries   int64          `json:"currentSecondariesCount"`
	RequestedPrimaries   int64          `json:"requestedPrimariesCount"`
	RequestedSecondaries int64          `json:"requestedSecondariesCount"`
	Options              map[string]any `json:"options,omitempty"`
	// ReplicationLag is how many transactions this copy is behind the
	// database's writer (SHOW DATABASES YIELD replicationLag, made
	// non-negative: the manual's pages disagree on its sign); nil where
	// Neo4j reports none (a copy not online or deallocating).
	ReplicationLag *int64 `json:"replicationLag,omitempty"`
}

// Setting is one Neo4j configuration setting as the server reports it.
type Setting struct {
	Name    string `json:"name"`
	Value   string `json:"value"`
	Dynamic bool   `json:"isDynamic"`
	// Default is the setting's default value, when the server reports it.
	Default string `json:"defaultValue,omitempty"`
}

// StatusCheck is one row of CALL dbms.cluster.statusCheck.
type StatusCheck struct {
	Database              string `json:"database"`
	ServerID              string `json:"serverId"`
	ServerName            string `json:"serverName"`
	Address               string `json:"address"`
	ReplicationSuccessful bool   `json:"replicationSuccessful"`
	MemberStatus          string `json:"memberStatus"`
	RecognisedLeader      string `json:"recognisedLeader"`
	RecognisedLeaderTerm  int64  `json:"recognisedLeaderTerm"`
	Error                 string `json:"error,omitempty"`
}

// Neo4j is everything observed of the Neo4j plane in one pass.
type Neo4j struct {
	// Reachable is false when the plane could not be observed; Reason says why
	// and plan marks the plane unknown instead of planning blind.
	Reachable bool   `json:"reachable"`
	Reason    string `json:"reason,omitempty"`
	Edition   string `json:"edition,omitempty"` // "enterprise" or "community"
	Version   string `json:"version,omitempty"`
	// Servers keyed by serverId (empty for Community).
	Servers   map[string]Server    `json:"servers,omitempty"`
	Databases []DatabaseAllocation `json:"databases,omitempty"`
	Settings  map[string]Setting   `json:"settings,omitempty"`
	// ServerSettings are SHOW SETTINGS of each server asked over a direct
	// connection, keyed by serverId: settings are per server (a restart
	// with another ConfigMap, dbms.setConfigValue on one member). A server
	// that could not be asked is absent.
	ServerSettings map[string]map[string]Setting `json:"serverSettings,omitempty"`
	// DryRuns are the answers to the DRYRUN statements a first plan asked
	// for (plan.Plan.DryRunsWanted): read-only previews of what Neo4j
	// would move, observed with the rest of the plane.
	DryRuns []DryRun `json:"dryRuns,omitempty"`
}

// Move is one database allocation a DEALLOCATE or REALLOCATE moves: a row
// of its DRYRUN (Operations Manual, clustering/servers.adoc, "Deallocating
// databases from a server").
type Move struct {
	Database       string `json:"database"`
	FromServerName string `json:"fromServerName"`
	FromServerID   string `json:"fromServerId"`
	ToServerName   string `json:"toServerName"`
	ToServerID     string `json:"toServerId"`
	// Mode is the allocation's mode, e.g. "primary" or "secondary".
	Mode string `json:"mode"`
}

// DryRun kinds.
const (
	DryRunDeallocate = "DEALLOCATE"
	DryRunReallocate = "REALLOCATE"
)

// DryRun is the answer to one DRYRUN DEALLOCATE DATABASES FROM SERVERS …
// (Kind DryRunDeallocate, ServerIDs sorted) or DRYRUN REALLOCATE DATABASES.
type DryRun struct {
	Kind      string   `json:"kind"`
	ServerIDs []string `json:"serverIds,omitempty"`
	Moves     []Move   `json:"moves,omitempty"`
	// Refused is Neo4j's refusal (the statement would fail; nothing was
	// changed); Error is a failure to ask at all.
	Refused string `json:"refused,omitempty"`
	Error   string `json:"error,omitempty"`
}
