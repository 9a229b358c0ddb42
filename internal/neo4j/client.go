package neo4j

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	driver "github.com/neo4j/neo4j-go-driver/v5/neo4j"
	"github.com/neo4j/neo4j-go-driver/v5/neo4j/config"
)

// Editions as CALL dbms.components() reports them.
const (
	EditionEnterprise = "enterprise"
	EditionCommunity  = "community"
)

const (
	systemDB            = "system"
	defaultPort         = "7687"
	defaultRetryTime    = 30 * time.Second
	defaultUserAgent    = "neo4jctl"
	retryBaseDelay      = 200 * time.Millisecond
	retryMaxDelay       = 5 * time.Second
	defaultConnectLimit = 10 * time.Second
)

// Resolver maps an advertised Bolt address ("host:port", as a URI or a
// routing table names it) to the address that is reachable from here
// (typically a port-forward on 127.0.0.1). It returns its input for
// addresses it does not know.
type Resolver func(advertised string) (reachable string)

// MapResolver returns a Resolver that looks addresses up in m and returns
// unknown ones unchanged. m is copied.
func MapResolver(m map[string]string) Resolver {
	cp := make(map[string]string, len(m))
	for k, v := range m {
		cp[k] = v
	}
	return func(advertised string) string {
		if r, ok := cp[advertised]; ok {
			return r
		}
		return advertised
	}
}

// Config says how to reach Neo4j. The caller hands in the credentials; this
// package never reads them from anywhere else and never prints them.
type Config struct {
	// URI is bolt://, bolt+s://, bolt+ssc://, neo4j://, neo4j+s:// or
	// neo4j+ssc:// host[:port]. It must not carry user info. +s verifies the
	// server certificate (against CACertPEM when set, else the system
	// roots) and the host name it was dialled by (the advertised one when a
	// Resolver maps it); +ssc accepts any certificate (Operations Manual,
	// security/ssl-framework.adoc § Connect with SSL over Bolt).
	URI      string
	Username string
	Password string
	// CACertPEM are PEM certificates of the CAs trusted for +s schemes.
	CACertPEM []byte
	// Resolver, when set, maps every advertised address to a reachable one
	// and makes the client route on its own (see the package doc).
	Resolver Resolver
	// ConnectTimeout bounds opening one connection (default 10 s).
	ConnectTimeout time.Duration
	// MaxTransactionRetryTime bounds the retries of one idempotent
	// statement (default 30 s).
	MaxTransactionRetryTime time.Duration
	// WriteTimeout bounds each administration statement that writes
	// (ENABLE, DEALLOCATE, DROP SERVER, CREATE DATABASE …), retries of an
	// idempotent one included; 0 means none. A write holds apply's Lease:
	// without a deadline one that never answers (a leader lost mid-commit,
	// a port-forward to a Pod that went away) would hold it forever. The
	// deadline is the client's: the server may still carry the statement
	// out, so after a timeout (IsWriteTimeout) the outcome is unknown and
	// the state must be read again before anything else is decided.
	WriteTimeout time.Duration
	// UserAgent is sent to the server (default "neo4jctl").
	UserAgent string
	// OnRetry, when set, is called before an idempotent statement is sent
	// again, with the number of the attempt that failed (1 for the first)
	// and its error, so progress output can show retries.
	OnRetry func(attempt int, err error)
}

// Client talks to one Neo4j DBMS. It is safe for concurrent use.
type Client struct {
	cfg      Config
	redact   redactor
	security string     // "", "+s" or "+ssc"
	routing  bool       // neo4j:// scheme
	initial  string     // advertised host:port of the URI
	query    string     // routing context of the URI
	certs    *certCheck // +s only
	auth     driver.AuthToken
	// ownRouting: a Resolver is set on a routing scheme, so writes go to
	// the system writer found by the client, over direct connections.
	ownRouting bool
	bookmarks  driver.BookmarkManager
	main       driver.DriverWithContext
	sleep      func(context.Context, time.Duration) error

	mu      sync.Mutex
	direct  map[string]driver.DriverWithContext // advertised address → driver
	writer  string                              // advertised address of the system writer
	edition string
	version string
	// componentsAt is when edition and version were read.
	componentsAt time.Time
}

// Open connects, verifies connectivity and detects the edition and version
// with CALL dbms.components(). Close the client when done.
func Open(ctx context.Context, cfg Config) (*Client, error) {
	c, err := newClient(cfg)
	if err != nil {
		return nil, err
	}
	connectCtx := ctx
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		connectCtx, cancel = context.WithTimeout(ctx, c.connectTimeout()*3)
		defer cancel()
	}
	if err := c.main.VerifyConnectivity(connectCtx); err != nil {
		_ = c.Close(context.WithoutCancel(ctx))
		if c.certs != nil {
			if ce := c.certs.last.Load(); ce != nil {
				// The driver reports it as a bare connectivity error.
				return nil, c.redact.error(&Error{Op: "connect to " + c.initial, Kind: KindUnreachable, Message: ce.Error(), Err: ce})
			}
		}
		return nil, c.fail("connect to "+c.initial, err)
	}
	// The first query is bounded too: through a stale port-forward the
	// connection opens but a read never returns.
	if _, _, err := c.Components(connectCtx); err != nil {
		_ = c.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return c, nil
}

// newClient validates cfg and builds the drivers without any I/O.
func newClient(cfg Config) (*Client, error) {
	c := &Client{
		cfg:       cfg,
		redact:    redactor(cfg.Password),
		direct:    map[string]driver.DriverWithContext{},
		bookmarks: driver.NewBookmarkManager(driver.BookmarkManagerConfig{}),
		sleep:     sleepCtx,
	}
	if c.cfg.MaxTransactionRetryTime <= 0 {
		c.cfg.MaxTransactionRetryTime = defaultRetryTime
	}
	if c.cfg.UserAgent == "" {
		c.cfg.UserAgent = defaultUserAgent
	}
	if err := c.parseURI(cfg.URI); err != nil {
		return nil, &Error{Op: "connect", Kind: KindUnknown, Message: err.Error()}
	}
	if c.security == "+s" {
		c.certs = &certCheck{}
		if len(cfg.CACertPEM) > 0 {
			c.certs.roots = x509.NewCertPool()
			if !c.certs.roots.AppendCertsFromPEM(cfg.CACertPEM) {
				return nil, &Error{Op: "connect", Kind: KindUnknown, Message: "CA certificate: no PEM certificate found"}
			}
		}
	}
	c.auth = driver.BasicAuth(cfg.Username, cfg.Password, "")
	c.ownRouting = c.routing && cfg.Resolver != nil

	var err error
	if cfg.Resolver == nil {
		scheme := "bolt"
		if c.routing {
			scheme = "neo4j"
		}
		// +s is verified by tlsConfig's VerifyConnection, with the
		// driver in +ssc mode (see certCheck).
		u := scheme + driverSecurity(c.security) + "://" + c.initial
		if c.routing && c.query != "" {
			u += "?" + c.query
		}
		c.main, err = driver.NewDriverWithContext(u, c.auth, c.configure(c.tlsConfig("")))
	} else {
		c.main, err = c.newDirect(c.initial)
	}
	if err != nil {
		return nil, c.fail("connect", err)
	}
	return c, nil
}

// parseURI checks the URI without ever echoing it: it may hold secrets.
func (c *Client) parseURI(raw string) error {
	if raw == "" {
		return errors.New("no URI given")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error quotes the whole URI, user info included.
		return errors.New("the URI is not valid")
	}
	if u.User != nil {
		return errors.New("the URI must not contain user info: pass the username and password separately")
	}
	scheme, security, _ := strings.Cut(u.Scheme, "+")
	switch {
	case scheme != "bolt" && scheme != "neo4j":
		return errors.New("URI scheme must be bolt, bolt+s, bolt+ssc, neo4j, neo4j+s or neo4j+ssc, got " + u.Scheme)
	case security != "" && security != "s" && security != "ssc":
		return errors.New("URI scheme must be bolt, bolt+s, bolt+ssc, neo4j, neo4j+s or neo4j+ssc, got " + u.Scheme)
	}
	if security != "" {
		c.security = "+" + security
	}
	c.routing = scheme == "neo4j"
	if u.Hostname() == "" {
		return errors.New("the URI has no host")
	}
	if u.Path != "" && u.Path != "/" {
		return errors.New("the URI must not have a path")
	}
	if u.RawQuery != "" && !c.routing {
		return errors.New("a routing context (?…) needs a neo4j:// URI")
	}
	c.query = u.RawQuery
	port := u.Port()
	if port == "" {
		port = defaultPort
	}
	c.initial = net.JoinHostPort(u.Hostname(), port)
	return nil
}

func (c *Client) connectTimeout() time.Duration {
	if c.cfg.ConnectTimeout > 0 {
		return c.cfg.ConnectTimeout
	}
	return defaultConnectLimit
}

func (c *Client) configure(tlsCfg *tls.Config) func(*config.Config) {
	return func(dc *config.Config) {
		dc.SocketConnectTimeout = c.connectTimeout()
		dc.ConnectionAcquisitionTimeout = c.connectTimeout() * 3
		dc.MaxTransactionRetryTime = c.cfg.MaxTransactionRetryTime
		dc.UserAgent = c.cfg.UserAgent
		dc.TlsConfig = tlsCfg
	}
}

// driverSecurity is the scheme suffix handed to the driver: +s becomes
// +ssc because the client verifies certificates itself (certCheck).
func driverSecurity(security string) string {
	if security == "+s" {
		return "+ssc"
	}
	return security
}

// tlsConfig returns the TLS configuration for the +s and +ssc schemes.
// Under +s the driver runs in +ssc mode (no built-in verification) and
// VerifyConnection does the full check: the chain against the trusted CAs
// and the leaf against verifyName — the advertised host when the connection
// goes to a resolved address — or, when verifyName is empty, against the
// host the driver dialled.
func (c *Client) tlsConfig(verifyName string) *tls.Config {
	if c.security == "" {
		return nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.certs == nil {
		return cfg
	}
	certs := c.certs
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		host := verifyName
		if host == "" {
			host = cs.ServerName
		}
		return certs.verify(host, cs)
	}
	return cfg
}

// newDirect builds a direct (bolt) driver to the reachable address of an
// advertised one.
func (c *Client) newDirect(advertised string) (driver.DriverWithContext, error) {
	reachable := c.resolve(advertised)
	advHost, _, _ := net.SplitHostPort(advertised)
	return driver.NewDriverWithContext("bolt"+driverSecurity(c.security)+"://"+reachable, c.auth, c.configure(c.tlsConfig(advHost)))
}

// resolve applies the Resolver, with a default port for bare hosts.
func (c *Client) resolve(advertised string) string {
	if c.cfg.Resolver == nil {
		return advertised
	}
	r := c.cfg.Resolver(advertised)
	if r == "" {
		return advertised
	}
	if _, _, err := net.SplitHostPort(r); err != nil {
		return net.JoinHostPort(r, defaultPort)
	}
	return r
}

// Close closes every connection.
func (c *Client) Close(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	if c.main != nil {
		errs = append(errs, c.main.Close(ctx))
	}
	for _, d := range c.direct {
		errs = append(errs, d.Close(ctx))
	}
	c.direct = map[string]driver.DriverWithContext{}
	if err := errors.Join(errs...); err != nil {
		// Not c.fail: it takes c.mu, held here.
		return c.redact.error(classify("close", err))
	}
	return nil
}

// Edition returns "enterprise" or "community" as detected by Open.
func (c *Client) Edition() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.edition
}

// Version returns the Neo4j kernel version detected by Open.
func (c *Client) Version() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.version
}

// Components runs CALL dbms.components() and returns the edition and the
// kernel version, remembering them for Edition and Version.
func (c *Client) Components(ctx context.Context) (edition, version string, err error) {
	rows, err := c.read(ctx, "CALL dbms.components()")
	if err != nil {
		return "", "", err
	}
	for _, r := range rows {
		if name := str(r, "name"); name != "" && name != "Neo4j Kernel" {
			continue
		}
		edition = strings.ToLower(str(r, "edition"))
		if vs := strList(r, "versions"); len(vs) > 0 {
			version = vs[0]
		}
		break
	}
	if edition == "" {
		return "", "", c.fail("CALL dbms.components()", errors.New("no Neo4j Kernel component reported"))
	}
	c.mu.Lock()
	c.edition, c.version, c.componentsAt = edition, version, time.Now()
	c.mu.Unlock()
	return edition, version, nil
}

// row is one result record, keyed by column.
type row = map[string]any

// read runs an idempotent read on system, retrying.
func (c *Client) read(ctx context.Context, stmt string) ([]row, error) {
	return c.retrying(ctx, stmt, false)
}

// writeIdempotent runs an idempotent administration statement, retrying,
// within the write deadline.
func (c *Client) writeIdempotent(ctx context.Context, stmt string) ([]row, error) {
	wctx, cancel := c.writeDeadline(ctx)
	defer cancel()
	rows, err := c.retrying(wctx, stmt, true)
	return rows, c.timedOut(ctx, wctx, err)
}

// writeOnce sends a non-idempotent statement exactly once in an auto-commit
// transaction, within the write deadline. After an error the outcome is
// unknown: re-read state.
func (c *Client) writeOnce(ctx context.Context, stmt string) ([]row, error) {
	wctx, cancel := c.writeDeadline(ctx)
	defer cancel()
	rows, err := c.runOnce(wctx, stmt, true)
	if err != nil {
		return nil, c.timedOut(ctx, wctx, c.fail(stmt, err))
	}
	return rows, nil
}

// ErrWriteTimeout is in the chain of the error of a write that did not
// answer within Config.WriteTimeout.
var ErrWriteTimeout = errors.New("no answer within the write deadline")

// IsWriteTimeout reports whether err is a write that ran out of its
// deadline: its outcome is unknown.
func IsWriteTimeout(err error) bool { return errors.Is(err, ErrWriteTimeout) }

func (c *Client) writeDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	if c.cfg.WriteTimeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, c.cfg.WriteTimeout)
}

// timedOut turns the error of a write whose own deadline (not the
// caller's context) ended it into one that says so.
func (c *Client) timedOut(parent, wctx context.Context, err error) error {
	if err == nil || parent.Err() != nil || !errors.Is(wctx.Err(), context.DeadlineExceeded) {
		return err
	}
	var e *Error
	if !errors.As(err, &e) {
		e = c.fail("write", err)
	}
	out := *e
	out.Kind = KindCanceled
	out.Message = fmt.Sprintf("no answer within %s (the Neo4j write deadline); the statement may still take effect: read SHOW SERVERS and SHOW DATABASES before deciding anything else", c.cfg.WriteTimeout)
	out.Err = fmt.Errorf("%w: %w", ErrWriteTimeout, context.DeadlineExceeded)
	return &out
}

// retrying runs stmt until it succeeds, fails with an error that retrying
// cannot fix, or MaxTransactionRetryTime would be exceeded; the delay grows
// exponentially from 200 ms to at most 5 s, with ±20 % jitter.
func (c *Client) retrying(ctx context.Context, stmt string, write bool) ([]row, error) {
	deadline := time.Now().Add(c.cfg.MaxTransactionRetryTime)
	delay := retryBaseDelay
	for attempt := 1; ; attempt++ {
		rows, err := c.runOnce(ctx, stmt, write)
		if err == nil {
			return rows, nil
		}
		e := c.fail(stmt, err)
		if !Retryable(e) || ctx.Err() != nil {
			return nil, e
		}
		wait := jitter(delay)
		if time.Now().Add(wait).After(deadline) {
			return nil, e
		}
		if c.cfg.OnRetry != nil {
			c.cfg.OnRetry(attempt, e)
		}
		if err := c.sleep(ctx, wait); err != nil {
			return nil, c.fail(stmt, err)
		}
		delay = min(delay*2, retryMaxDelay)
	}
}

func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// runOnce sends stmt once in an auto-commit transaction on system and
// collects every record.
func (c *Client) runOnce(ctx context.Context, stmt string, write bool) ([]row, error) {
	d, err := c.driverFor(ctx, write)
	if err != nil {
		return nil, err
	}
	mode := driver.AccessModeRead
	if write {
		mode = driver.AccessModeWrite
	}
	sess := d.NewSession(ctx, driver.SessionConfig{
		DatabaseName:    systemDB,
		AccessMode:      mode,
		BookmarkManager: c.bookmarks,
	})
	defer func() { _ = sess.Close(context.WithoutCancel(ctx)) }()
	res, err := sess.Run(ctx, stmt, nil)
	if err == nil {
		var recs []*driver.Record
		recs, err = res.Collect(ctx)
		if err == nil {
			rows := make([]row, len(recs))
			for i, r := range recs {
				rows[i] = r.AsMap()
			}
			return rows, nil
		}
	}
	if c.ownRouting && write && ClassOf(err) == KindNotLeader {
		c.mu.Lock()
		c.writer = ""
		c.mu.Unlock()
	}
	return nil, err
}

// driverFor picks the driver for a statement: the main one, except for
// writes under own routing, which go to the system writer.
func (c *Client) driverFor(ctx context.Context, write bool) (driver.DriverWithContext, error) {
	if !c.ownRouting || !write {
		return c.main, nil
	}
	c.mu.Lock()
	writer := c.writer
	c.mu.Unlock()
	if writer == "" {
		rows, err := c.runOnce(ctx, "SHOW DATABASE system YIELD *", false)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			if boolean(r, "writer") && str(r, "address") != "" {
				writer = str(r, "address")
				break
			}
		}
		if writer == "" {
			// No writer reported (e.g. mid-election): the retry loop
			// will come back here after a NotALeader or transient error.
			writer = c.initial
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writer = writer
	if writer == c.initial {
		return c.main, nil
	}
	if d, ok := c.direct[writer]; ok {
		return d, nil
	}
	d, err := c.newDirect(writer)
	if err != nil {
		return nil, err
	}
	c.direct[writer] = d
	return d, nil
}

// fail classifies err (knowing the server's edition once Open detected it)
// and redacts the password from it.
func (c *Client) fail(op string, err error) *Error {
	c.mu.Lock()
	edition := c.edition
	c.mu.Unlock()
	return c.redact.error(forEdition(classify(op, err), edition))
}
