package neo4jsim

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"
)

// Config describes the simulated DBMS. The zero value is a bootstrapped
// three-server Enterprise cluster on ephemeral loopback ports.
type Config struct {
	// Servers is the number of members started with the cluster (default 3,
	// Community always 1). Use 0 with FollowStatefulSet to let Pods create them
	// (set Servers to -1 for none when the default would apply).
	Servers int
	// Advertised is the advertised Bolt address of each initial server, as
	// SHOW SERVERS reports it. Missing entries default to the Pod DNS name of
	// a StatefulSet "neo4j" in namespace "default":
	// neo4j-<i>.neo4j-headless.default.svc.cluster.local:7687.
	Advertised []string
	// ListenHost is the loopback host to listen on (default 127.0.0.1).
	ListenHost string
	// BasePort is the first listen port; server n listens on BasePort+n.
	// Zero picks free ports.
	BasePort int
	// User and Password are the basic-auth credentials (user default "neo4j").
	User     string
	Password string
	// Community makes a single-server Community Edition DBMS.
	Community bool
	// Version is the Neo4j version reported (default 5.26.0).
	Version string
	// Settings overrides or adds configuration settings (SHOW SETTINGS,
	// dbms.listConfig).
	Settings map[string]string
	// TransitionDelay is how long asynchronous work takes: a Deallocating
	// server becoming Deallocated, a new allocation finishing its store copy.
	// Default 200ms; a negative value means immediate.
	TransitionDelay time.Duration
	// InitialFree starts the initial servers Free instead of Enabled (as if
	// initial.dbms.automatically_enable_free_servers were false and nobody
	// had enabled them yet).
	InitialFree bool
	// SystemPrimaries is how many initial servers host system as a primary
	// (default min(Servers, 3)); later servers join as system secondaries.
	SystemPrimaries int
	// DefaultPrimaries and DefaultSecondaries are the topology of databases
	// created without TOPOLOGY, including the initial "neo4j" (default 1/0).
	DefaultPrimaries   int
	DefaultSecondaries int
	// MaxBoltMinor caps the negotiated Bolt 5 minor version (default and
	// maximum 8; a negative value means 5.0). Tests use it to exercise 5.0
	// (credentials in HELLO) and 5.1+ (LOGON), and 5.7+ (GQL errors).
	MaxBoltMinor int
	// LogReads also records read-only statements (SHOW …, RETURN, read
	// procedures) in the statement log.
	LogReads bool
	// Now replaces the clock (tests).
	Now func() time.Time
	// TLS, when set, makes every server's Bolt listener require TLS with
	// this configuration (its certificate), as server.bolt.tls_level=REQUIRED
	// does: a plaintext connection is refused (see tls.go; NewTestPKI
	// makes a CA and a certificate).
	TLS *tls.Config
}

// Simulator is a simulated Neo4j DBMS: N servers sharing one cluster model,
// each speaking Bolt on its own loopback listener.
type Simulator struct {
	cfg Config
	now func() time.Time

	mu                 sync.Mutex
	community          bool
	servers            []*simServer
	dbs                map[string]*simDatabase
	defaultDB          string
	systemID           string
	sysLeader          string
	sysTerm            int64
	sysTxn             int64
	started            time.Time
	settings           map[string]*setting
	defaultPrimaries   int
	defaultSecondaries int
	log                []Statement
	nextPort           int
	connSeq            int
	bookmarkSeq        int64

	// faults (see faults.go)
	password   string
	refuse     bool
	failNext   int
	latency    time.Duration
	splitBrain map[string]bool
	// lag is the replication lag fault: database → serverId → how many
	// transactions that copy is behind the writer.
	lag        map[string]map[string]int64
	slowMu     sync.Mutex // guards slow apart from mu: execute takes mu
	slow       []slowStatement
	notALeader bool

	closed bool
	wg     sync.WaitGroup
}

// ServerInfo is a snapshot of one simulated server.
type ServerInfo struct {
	ID         string // serverId (UUID)
	Name       string
	Advertised string // address SHOW SERVERS reports
	Listen     string // loopback host:port the server really listens on
	State      string
	Health     string
}

// Start starts a simulated DBMS and its Bolt listeners.
func Start(cfg Config) (*Simulator, error) {
	if cfg.Servers == 0 {
		cfg.Servers = 3
	}
	if cfg.Servers < 0 {
		cfg.Servers = 0
	}
	if cfg.Community {
		cfg.Servers = 1
	}
	if cfg.ListenHost == "" {
		cfg.ListenHost = "127.0.0.1"
	}
	if cfg.User == "" {
		cfg.User = "neo4j"
	}
	if cfg.Version == "" {
		cfg.Version = "5.26.0"
	}
	if cfg.TransitionDelay == 0 {
		cfg.TransitionDelay = 200 * time.Millisecond
	}
	if cfg.TransitionDelay < 0 {
		cfg.TransitionDelay = 0
	}
	if cfg.SystemPrimaries == 0 {
		cfg.SystemPrimaries = min(cfg.Servers, 3)
	}
	if cfg.DefaultPrimaries == 0 {
		cfg.DefaultPrimaries = 1
	}
	switch {
	case cfg.MaxBoltMinor < 0:
		cfg.MaxBoltMinor = 0
	case cfg.MaxBoltMinor == 0 || cfg.MaxBoltMinor > 8:
		cfg.MaxBoltMinor = 8
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	s := &Simulator{
		cfg:                cfg,
		now:                now,
		community:          cfg.Community,
		dbs:                map[string]*simDatabase{},
		defaultDB:          "neo4j",
		systemID:           "00000000000000000000000000000001",
		sysTxn:             10,
		started:            now(),
		settings:           defaultSettings(cfg.Community),
		defaultPrimaries:   cfg.DefaultPrimaries,
		defaultSecondaries: cfg.DefaultSecondaries,
		password:           cfg.Password,
		splitBrain:         map[string]bool{},
		lag:                map[string]map[string]int64{},
		nextPort:           cfg.BasePort,
	}
	for k, v := range cfg.Settings {
		if st, ok := s.settings[k]; ok {
			st.value, st.startup, st.set = v, v, true
		} else {
			s.settings[k] = &setting{value: v, startup: v, set: true, desc: "Simulated setting.", dynamic: dynamicSettings[k]}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range cfg.Servers {
		adv := fmt.Sprintf("neo4j-%d.neo4j-headless.default.svc.cluster.local:7687", i)
		if i < len(cfg.Advertised) && cfg.Advertised[i] != "" {
			adv = cfg.Advertised[i]
		}
		state := StateEnabled
		if cfg.InitialFree {
			state = StateFree
		}
		// The initial servers are configured like a cluster's first
		// members: the first SystemPrimaries host system as primaries.
		mode := "PRIMARY"
		if i >= cfg.SystemPrimaries {
			mode = "SECONDARY"
		}
		conf := map[string]string{}
		if !cfg.Community {
			conf["server.cluster.system_database_mode"] = mode
		}
		srv, err := s.addServerLocked(adv, "", conf, cfg.Version)
		if err != nil {
			s.closeLocked()
			return nil, err
		}
		srv.state = state
		if state == StateEnabled {
			s.enableWithDefaults(srv)
		}
	}
	s.bootstrapDefaultDB()
	return s, nil
}

// bootstrapDefaultDB creates "neo4j" once there are servers to host it, the
// way a forming cluster creates its default database.
func (s *Simulator) bootstrapDefaultDB() {
	if _, ok := s.dbs[s.defaultDB]; ok {
		return
	}
	now := s.now()
	db := &simDatabase{name: s.defaultDB, id: "0A5B1C2D3E4F50617283940000000002", primaries: s.defaultPrimaries,
		secondaries: s.defaultSecondaries, created: now, started: now, txn: 3}
	if s.community {
		db.allocs = []allocation{{server: s.servers[0].id, role: rolePrimary}}
		s.dbs[db.name] = db
		s.electLeader(db)
		return
	}
	allocs, msg := s.place(db.name, nil, db.primaries, db.secondaries, nil, now)
	if msg != "" {
		// Not enough Enabled servers yet (e.g. all Free): the database is
		// created when servers are enabled (see ensureDefaultDB).
		allocs, _ = s.place(db.name, nil, min(db.primaries, s.placeableCount()), 0, nil, now)
	}
	db.allocs = allocs
	s.dbs[db.name] = db
	s.electLeader(db)
}

func (s *Simulator) placeableCount() int {
	n := 0
	for _, srv := range s.servers {
		if srv.placeable() {
			n++
		}
	}
	return n
}

// ensureDefaultDB gives the default database its allocations once servers
// can host it; real clusters allocate it when the first members are enabled.
func (s *Simulator) ensureDefaultDB() {
	db := s.dbs[s.defaultDB]
	if db == nil || len(db.allocs) >= db.primaries+db.secondaries {
		return
	}
	p := min(db.primaries, s.placeableCount())
	if p == 0 {
		return
	}
	if allocs, msg := s.place(db.name, db.allocs, p, 0, nil, s.now()); msg == "" {
		db.allocs = allocs
		s.electLeader(db)
	}
}

func (s *Simulator) listenAddr() string {
	if s.cfg.BasePort == 0 {
		return net.JoinHostPort(s.cfg.ListenHost, "0")
	}
	p := s.nextPort
	s.nextPort++
	return net.JoinHostPort(s.cfg.ListenHost, strconv.Itoa(p))
}

// addServerLocked starts a new server, Free, with its own configuration
// (conf) and the version its binary runs.
func (s *Simulator) addServerLocked(advertised, identity string, conf map[string]string, version string) (*simServer, error) {
	if s.closed {
		return nil, errors.New("neo4jsim: simulator closed")
	}
	ln, err := net.Listen("tcp", s.listenAddr())
	if err != nil {
		return nil, fmt.Errorf("neo4jsim: listen: %w", err)
	}
	ln = s.tlsListener(ln)
	id := newUUID()
	srv := &simServer{
		id: id, name: id, advertised: advertised, identity: identity, listen: ln.Addr().String(),
		state: StateFree, available: true, mode: "NONE", version: s.cfg.Version,
		ln: ln, conns: map[*conn]struct{}{},
	}
	s.applyStartConfig(srv, conf, version)
	s.servers = append(s.servers, srv)
	s.electSystemLeader()
	s.wg.Add(1)
	go s.acceptLoop(srv)
	return srv, nil
}

func (s *Simulator) acceptLoop(srv *simServer) {
	defer s.wg.Done()
	for {
		nc, err := srv.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed || s.refuse || !srv.available {
			s.mu.Unlock()
			nc.Close()
			continue
		}
		s.connSeq++
		c := newConn(s, srv, nc, s.connSeq)
		srv.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			c.serve()
			s.mu.Lock()
			delete(srv.conns, c)
			s.mu.Unlock()
		}()
	}
}

// Close stops every listener and connection and waits for them to end.
func (s *Simulator) Close() error {
	s.mu.Lock()
	s.closeLocked()
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

func (s *Simulator) closeLocked() {
	s.closed = true
	for _, srv := range s.servers {
		srv.ln.Close()
		for c := range srv.conns {
			c.nc.Close()
		}
	}
}

func (s *Simulator) info(srv *simServer) ServerInfo {
	return ServerInfo{ID: srv.id, Name: srv.name, Advertised: srv.advertised, Listen: srv.listen, State: srv.state, Health: srv.health()}
}

// Servers returns a snapshot of every server, dropped ones included, in the
// order they joined.
func (s *Simulator) Servers() []ServerInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	out := make([]ServerInfo, 0, len(s.servers))
	for _, srv := range s.servers {
		out = append(out, s.info(srv))
	}
	return out
}

// Server returns the server with the given id or name.
func (s *Simulator) Server(ref string) (ServerInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	for _, srv := range s.servers {
		if srv.id == ref || srv.name == ref {
			return s.info(srv), true
		}
	}
	return ServerInfo{}, false
}

// AddressMap maps each server's advertised address to its loopback listener,
// for an address resolver that lets the driver reach "Pod DNS names".
func (s *Simulator) AddressMap() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := make(map[string]string, len(s.servers))
	for _, srv := range s.servers {
		m[srv.advertised] = srv.listen
	}
	return m
}

// URI returns scheme://listen-address of the first available server, e.g.
// URI("neo4j") for routing or URI("bolt") for a direct connection.
func (s *Simulator) URI(scheme string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, srv := range s.servers {
		if srv.available && srv.state != StateDropped {
			return scheme + "://" + srv.listen
		}
	}
	return ""
}

// AddServer adds a newly discovered server in state Free (a new Pod that
// joined the cluster) and starts its listener. settings, if given, is its
// own configuration (its neo4j.conf); without
// server.cluster.system_database_mode it hosts system as a primary, Neo4j's
// default.
func (s *Simulator) AddServer(advertised string, settings ...map[string]string) (ServerInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	conf := map[string]string{}
	for _, m := range settings {
		for k, v := range m {
			conf[k] = v
		}
	}
	srv, err := s.addServerLocked(advertised, "", conf, s.cfg.Version)
	if err != nil {
		return ServerInfo{}, err
	}
	return s.info(srv), nil
}

// SetAvailable marks a server Available or Unavailable as the other members
// see it (its process hangs or is cut off: new connections are refused and
// existing ones dropped). It is Neo4j's view, not Kubernetes': a server
// following a Pod stays Unavailable while the Pod stays Ready, until
// SetAvailable(ref, true) — which brings it back only if its Pod is Ready
// (fact: server.health).
func (s *Simulator) SetAvailable(ref string, available bool) error {
	return s.withServer(ref, func(srv *simServer) {
		srv.down = !available
		srv.available = available && (srv.podKey == "" || srv.podReady)
		if !available {
			for c := range srv.conns {
				c.nc.Close()
			}
		}
		s.advance()
	})
}

// withServer runs f on the server ref names (its id, name or an address),
// under the simulator's lock.
func (s *Simulator) withServer(ref string, f func(srv *simServer)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	srv := s.lookupAny(ref)
	if srv == nil {
		return fmt.Errorf("neo4jsim: no server %q", ref)
	}
	f(srv)
	return nil
}

func (s *Simulator) lookupAny(ref string) *simServer {
	for _, srv := range s.servers {
		if srv.id == ref || srv.name == ref || srv.advertised == ref || srv.listen == ref {
			return srv
		}
	}
	return nil
}

// Allocations returns the requested allocations of a database as serverId →
// "primary"/"secondary" (system included).
func (s *Simulator) Allocations(db string) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	out := map[string]string{}
	if db == "system" {
		for _, srv := range s.servers {
			if srv.state == StateDropped {
				continue
			}
			out[srv.id] = roleSecondary
			if srv.sysPrimary {
				out[srv.id] = rolePrimary
			}
		}
		return out
	}
	if d := s.dbs[db]; d != nil {
		for _, a := range d.allocs {
			out[a.server] = a.role
		}
	}
	return out
}

// Log returns the statement log: every admin statement (and every refused
// statement) in arrival order.
func (s *Simulator) Log() []Statement {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Statement(nil), s.log...)
}

// ResetLog empties the statement log.
func (s *Simulator) ResetLog() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = nil
}

// SetSettingOn changes a setting's live value on one server only, whatever
// its configuration says, as if it had restarted with another neo4j.conf
// (an out-of-band ConfigMap) — a fault for drift and plan tests. The
// server loses it when it restarts and reads its own configuration again.
func (s *Simulator) SetSettingOn(serverID, name, value string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.settings[name]; !ok {
		s.settings[name] = &setting{desc: "Simulated setting.", dynamic: dynamicSettings[name]}
	}
	for _, srv := range s.servers {
		if srv.id == serverID {
			if srv.runtime == nil {
				srv.runtime = map[string]string{}
			}
			srv.runtime[name] = value
			return nil
		}
	}
	return fmt.Errorf("no server %s", serverID)
}

// SetSetting changes a setting's live value on every running server at
// once, whatever their configuration says: an out-of-band change, as if
// someone had changed it on each member by hand (dbms.setConfigValue, but
// without its dynamic-only check). A server that restarts afterwards reads
// its own configuration again and loses the change. It is a fault for
// drift tests, not something Neo4j does by itself.
func (s *Simulator) SetSetting(name, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.settings[name]; !ok {
		s.settings[name] = &setting{desc: "Simulated setting.", dynamic: dynamicSettings[name]}
	}
	for _, srv := range s.servers {
		if srv.runtime == nil {
			srv.runtime = map[string]string{}
		}
		srv.runtime[name] = value
		if value == "" {
			// "" would mean "back to the default" to settingsFor.
			srv.runtime[name] = s.settings[name].def
		}
	}
}
