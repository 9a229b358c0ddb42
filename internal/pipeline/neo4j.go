package pipeline

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/internal/lifecycle"
	"github.com/neo4jctl/neo4jctl/internal/neo4j"
	"github.com/neo4jctl/neo4jctl/internal/state"
	"github.com/neo4jctl/neo4jctl/manifests"
	"github.com/neo4jctl/neo4jctl/plan"
)

// Neo4jAccess says how to reach and log in to Neo4j. The password is never a
// flag: it comes from the Secret the cluster file references, or from
// PasswordFile / the NEO4JCTL_NEO4J_PASSWORD environment variable.
type Neo4jAccess struct {
	// URI, when set, is used as given (--neo4j-uri).
	URI          string
	Username     string
	PasswordFile string
	// Password, when set, is the password to use, ahead of every other
	// source: password rotation logs in with each password it holds.
	// Never a flag.
	Password string
	// CACertPEM are the CAs trusted to sign the servers' Bolt certificates
	// (--neo4j-ca-file). Without them, ca.crt of the cluster's TLS Secret
	// (cert-manager fills it) is read; a Secret without ca.crt means a CA
	// the system already trusts.
	CACertPEM []byte
	// InsecureSkipTLSVerify encrypts Bolt without verifying the servers'
	// certificates (+ssc). Without it a +ssc URI is refused.
	InsecureSkipTLSVerify bool
	// OnUnverifiedTLS is called before each connection that will not
	// verify the server's certificate (the command warns once).
	OnUnverifiedTLS func()
	// InCluster makes neo4jctl use the client Service's DNS name, as it does
	// when it runs in a Pod (watch).
	InCluster bool
	// Direct disables the port-forward resolver: advertised addresses are
	// dialled as they are (a URI that is reachable as is, e.g. in tests).
	Direct bool
	// AddressMap, when set, maps advertised addresses to reachable ones
	// instead of port-forwarding (tests that run the simulator on loopback
	// ports, or a network with its own tunnels).
	AddressMap map[string]string
	// OnRetry is told about retried idempotent statements.
	OnRetry func(attempt int, err error)
	// ConnectTimeout bounds opening a connection.
	ConnectTimeout time.Duration
	// WriteTimeout bounds each Neo4j write (neo4j.Config.WriteTimeout).
	WriteTimeout time.Duration
	// ObserveTimeout bounds one observation of the Neo4j plane (default
	// 60 s): a Bolt read has no deadline of its own, and a read through a
	// port-forward whose Pod went away would otherwise never return.
	ObserveTimeout time.Duration

	// pods, when set, returns the target's Pods (Runner.Observe lists
	// them once for both planes).
	pods func(context.Context) ([]state.Pod, error)
	// speculate opens the port-forward to the first server before knowing
	// whether its Pod is Ready (Runner.Observe of a single cluster).
	speculate bool
}

// PasswordEnv is the environment variable that may hold the Neo4j password.
const PasswordEnv = "NEO4JCTL_NEO4J_PASSWORD"

// InClusterFromEnv reports whether neo4jctl runs inside a Kubernetes Pod.
func InClusterFromEnv() bool {
	return os.Getenv("KUBERNETES_SERVICE_HOST") != "" && os.Getenv("KUBERNETES_SERVICE_PORT") != ""
}

// passwords finds the Neo4j password: the explicit one, the file, the
// environment, then the Secret the cluster file references, followed, when
// it comes from the Secret and a password rotation is under way, by the
// next password the rotation recorded (lifecycle.NextKey): once the
// rotation changed the password in Neo4j and until it rewrites the
// Secret's key, only that one logs in.
func (a Neo4jAccess) passwords(ctx context.Context, kc *kube.Client, t *Target) ([]string, error) {
	if a.Password != "" {
		return []string{a.Password}, nil
	}
	if a.PasswordFile != "" || os.Getenv(PasswordEnv) != "" || t.Cluster.Spec.Auth.SecretRef == nil || kc == nil {
		pw, err := a.configuredPassword(ctx, kc, t)
		return []string{pw}, err
	}
	ref := t.Cluster.Spec.Auth.SecretRef
	key := ref.Key
	if key == "" {
		key = "password"
	}
	sd, err := kc.ReadSecretData(ctx, t.Namespace, ref.Name)
	if err != nil {
		return nil, fmt.Errorf("read the Neo4j password from Secret %s/%s key %q: %w", t.Namespace, ref.Name, key, err)
	}
	cur, ok := sd.Data[key]
	if !ok {
		keys := make([]string, 0, len(sd.Data))
		for k := range sd.Data {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return nil, fmt.Errorf("read the Neo4j password from Secret %s/%s key %q: Secret %s/%s has no key %q (keys: %s)", t.Namespace, ref.Name, key, t.Namespace, ref.Name, key, strings.Join(keys, ", "))
	}
	out := []string{strings.TrimRight(string(cur), "\r\n")}
	if next, ok := sd.Data[lifecycle.NextKey(key)]; ok && len(next) > 0 {
		out = append(out, strings.TrimRight(string(next), "\r\n"))
	}
	return out, nil
}

// configuredPassword reads the password from the file, the environment
// or the Secret's key.
func (a Neo4jAccess) configuredPassword(ctx context.Context, kc *kube.Client, t *Target) (string, error) {
	if a.PasswordFile != "" {
		b, err := os.ReadFile(a.PasswordFile)
		if err != nil {
			return "", fmt.Errorf("read Neo4j password file: %w", err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	if v := os.Getenv(PasswordEnv); v != "" {
		return v, nil
	}
	ref := t.Cluster.Spec.Auth.SecretRef
	if ref == nil {
		return "", errors.New("no Neo4j credentials: the cluster file has no spec.auth.secretRef")
	}
	if kc == nil {
		return "", errors.New("no Neo4j credentials: no Kubernetes access to read the Secret and no password file")
	}
	key := ref.Key
	if key == "" {
		key = "password"
	}
	b, err := kc.ReadSecretKey(ctx, t.Namespace, ref.Name, key)
	if err != nil {
		return "", fmt.Errorf("read the Neo4j password from Secret %s/%s key %q: %w", t.Namespace, ref.Name, key, err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// Connect opens a Neo4j client for the target. The returned close function
// also stops the port-forwards it opened.
func (a Neo4jAccess) Connect(ctx context.Context, kc *kube.Client, t *Target) (*neo4j.Client, func(), error) {
	scheme := "neo4j"
	if t.Cluster.Spec.Edition == "community" {
		scheme = "bolt"
	}
	if tls := t.Cluster.Spec.TLS; tls != nil && slices.Contains(tls.Scopes, "bolt") {
		// The servers require TLS (server.bolt.tls_level=REQUIRED) and
		// their certificate is verified (+s) unless the user said
		// otherwise: +ssc would hand the password to anyone on the path
		// who presents a certificate of their own.
		if a.InsecureSkipTLSVerify {
			scheme += "+ssc"
		} else {
			scheme += "+s"
		}
	}
	security := schemeSecurity(scheme)
	if a.URI != "" {
		security = schemeSecurity(a.URI)
	}
	if security == "+ssc" {
		if !a.InsecureSkipTLSVerify {
			return nil, nil, errors.New(ErrUnverifiedURI)
		}
		if a.OnUnverifiedTLS != nil {
			a.OnUnverifiedTLS()
		}
	}
	var (
		fwd      *forwarder
		resolver neo4j.Resolver
	)
	if a.AddressMap != nil {
		resolver = neo4j.MapResolver(a.AddressMap)
	} else if !a.Direct && !a.InCluster && kc != nil {
		fwd = &forwarder{kc: kc, ctx: context.WithoutCancel(ctx), open: map[string]openForward{}, cluster: t.Cluster}
		resolver = fwd.resolve
	}
	closeAll := func() {
		if fwd != nil {
			fwd.stopAll()
		}
	}

	// The password is read while the server Pods are looked up and the
	// first port-forward opens: each is a round trip through the API
	// server, and only the Bolt handshake needs the password.
	var (
		pw     string
		nextPw []string
		ca     []byte
		caFrom string
		pwErr  error
		pwDone = make(chan struct{})
	)
	go func() {
		defer close(pwDone)
		var pws []string
		pws, pwErr = a.passwords(ctx, kc, t)
		// Hidden from every output from now on, wherever they appear.
		for _, p := range pws {
			plan.RegisterSecretValue(p)
		}
		if pwErr == nil {
			pw, nextPw = pws[0], pws[1:]
		}
		if pwErr == nil && security == "+s" {
			ca, caFrom, pwErr = a.trustedCA(ctx, kc, t)
		}
	}()
	if fwd != nil && a.URI == "" && a.speculate {
		// The first server is the one to dial whenever its Pod is Ready:
		// its port-forward (a connection of its own to the API server)
		// opens meanwhile. If it is not Ready, it costs a refused
		// request and an unused forward until Close.
		pools := manifests.Pools(t.Cluster)
		go fwd.resolve(manifests.BoltAddress(t.Cluster, t.Namespace, pools[0].Name, 0))
	}
	candidates, err := a.candidates(ctx, kc, t, scheme, fwd != nil)
	if err == nil && fwd != nil && candidates[0].advertised != "" {
		fwd.resolve(candidates[0].advertised)
	}
	<-pwDone
	if pwErr != nil {
		closeAll()
		return nil, nil, pwErr
	}
	if err != nil {
		closeAll()
		return nil, nil, err
	}

	user := a.Username
	if user == "" {
		user = "neo4j"
	}
	cfg := neo4j.Config{
		Username: user, Password: pw, CACertPEM: ca, Resolver: resolver,
		OnRetry: a.OnRetry, ConnectTimeout: a.ConnectTimeout, WriteTimeout: a.WriteTimeout,
	}
	var lastErr error
	for _, cand := range candidates {
		cfg.URI = cand.uri
		c, err := neo4j.Open(ctx, cfg)
		for _, next := range nextPw {
			if neo4j.ClassOf(err) != neo4j.KindAuth {
				break
			}
			// A password rotation is under way: the next password
			// may be the one Neo4j has now.
			cfg.Password = next
			c, err = neo4j.Open(ctx, cfg)
		}
		if err == nil {
			return c, func() { _ = c.Close(context.WithoutCancel(ctx)); closeAll() }, nil
		}
		lastErr = err
		if neo4j.IsCertificateError(err) {
			// Every server's certificate comes from the same CA.
			lastErr = untrusted(err, caFrom)
			break
		}
		if neo4j.ClassOf(err) == neo4j.KindAuth || ctx.Err() != nil {
			break // a wrong password is wrong on every server: no retry storm
		}
	}
	closeAll()
	return nil, nil, lastErr
}

// ErrUnverifiedURI refuses a +ssc URI given without the flag that accepts
// unverified certificates.
const ErrUnverifiedURI = "--neo4j-uri: a +ssc scheme encrypts without verifying the server's certificate, so anyone on the path can read the password (fix: use +s with --neo4j-ca-file, or pass --neo4j-insecure-skip-tls-verify to accept that)"

// schemeSecurity returns "+s", "+ssc" or "" for a URI or a bare scheme.
func schemeSecurity(uri string) string {
	scheme, _, _ := strings.Cut(uri, "://")
	if _, sec, ok := strings.Cut(scheme, "+"); ok {
		return "+" + sec
	}
	return ""
}

// caKey is the key of the CA certificate in a cert-manager Secret.
const caKey = "ca.crt"

// trustedCA returns the CAs to verify the servers' certificates against,
// and where they come from (for errors): --neo4j-ca-file, else ca.crt of
// the cluster's TLS Secret, else (nil) the system roots.
func (a Neo4jAccess) trustedCA(ctx context.Context, kc *kube.Client, t *Target) ([]byte, string, error) {
	if len(a.CACertPEM) > 0 {
		return a.CACertPEM, "--neo4j-ca-file", nil
	}
	secret := manifests.TLSSecretName(t.Cluster)
	if secret == "" || kc == nil {
		return nil, "the system's trusted CAs", nil
	}
	b, err := kc.ReadSecretKey(ctx, t.Namespace, secret, caKey)
	switch {
	case err != nil && strings.Contains(err.Error(), fmt.Sprintf("has no key %q", caKey)),
		err == nil && len(strings.TrimSpace(string(b))) == 0:
		// cert-manager leaves ca.crt out (or empty) for a public issuer
		// such as ACME: the system roots know that CA.
		return nil, "the system's trusted CAs (Secret " + t.Namespace + "/" + secret + " has no " + caKey + ")", nil
	case err != nil:
		return nil, "", fmt.Errorf("read the CA that signs the Neo4j servers' certificates: %w (fix: pass it with --neo4j-ca-file, or allow reading Secret %s/%s)", err, t.Namespace, secret)
	}
	return b, caKey + " of Secret " + t.Namespace + "/" + secret, nil
}

// untrusted adds to a certificate error what it was checked against and
// how to fix it.
func untrusted(err error, caFrom string) error {
	var e *neo4j.Error
	if !errors.As(err, &e) {
		return err
	}
	out := *e
	out.Message += " (verified against " + caFrom + "; fix: pass the CA that signs the servers' certificates with --neo4j-ca-file, or --neo4j-insecure-skip-tls-verify to connect without verifying)"
	return &out
}

// candidate is a Bolt URI to try and the advertised host:port it names.
type candidate struct {
	uri, advertised string
}

// candidates lists the URIs Connect tries, in order (at least one).
// readyOnly limits them to Ready Pods (reached through port-forwards).
func (a Neo4jAccess) candidates(ctx context.Context, kc *kube.Client, t *Target, scheme string, readyOnly bool) ([]candidate, error) {
	switch {
	case a.URI != "":
		return []candidate{{uri: a.URI}}, nil
	case a.InCluster && !t.Cluster.IsHelmLayout():
		addr := fmt.Sprintf("%s.%s.svc.%s:%d", manifests.ClientServiceName(t.Cluster), t.Namespace, manifests.ClusterDomain, manifests.PortBolt)
		return []candidate{{uri: scheme + "://" + addr, advertised: addr}}, nil
	}
	// Outside the cluster: reach a Pod through the API server. Only Ready
	// Pods of the main pools are tried, in order: dialling the advertised
	// name of a Pod that does not exist would wait on DNS, and a cluster
	// that has not started yet has nothing to observe. neo4jctl's layout
	// has one main pool; an adopted Helm cluster has one per release
	// (each a single server), and any of them will do, so that one
	// release being down does not hide the cluster.
	//
	// Inside the cluster an adopted Helm cluster has no client Service of
	// neo4jctl's: each release's own Service (what its server advertises)
	// is tried in turn.
	var ready map[string]bool
	if readyOnly && !a.InCluster {
		var err error
		if ready, err = a.readyPods(ctx, kc, t); err != nil {
			return nil, fmt.Errorf("find a Ready server Pod: %w", err)
		}
	}
	var (
		out  []candidate
		sets []string
	)
	for _, pool := range manifests.Pools(t.Cluster) {
		if !pool.Main {
			continue
		}
		sets = append(sets, pool.StatefulSet)
		for i := 0; i < int(pool.Servers); i++ {
			if ready != nil && !ready[manifests.PodName(t.Cluster, pool.Name, i)] {
				continue
			}
			addr := manifests.BoltAddress(t.Cluster, t.Namespace, pool.Name, i)
			out = append(out, candidate{uri: scheme + "://" + addr, advertised: addr})
		}
	}
	if len(out) == 0 {
		what := "StatefulSet"
		if len(sets) > 1 {
			what = "StatefulSets"
		}
		return nil, &neo4j.Error{Op: "connect", Kind: neo4j.KindUnreachable,
			Message: fmt.Sprintf("no Ready server Pod of %s %s/%s", what, t.Namespace, strings.Join(sets, ", "))}
	}
	return out, nil
}

// readyPods names the target's Ready Pods, read with one LIST (a GET per
// Pod would cost a round trip each).
func (a Neo4jAccess) readyPods(ctx context.Context, kc *kube.Client, t *Target) (map[string]bool, error) {
	var (
		pods []state.Pod
		err  error
	)
	if a.pods != nil {
		pods, err = a.pods(ctx)
	} else {
		pods, err = kc.ClusterPods(ctx, t.Inventory)
	}
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(pods))
	for _, p := range pods {
		if p.Ready {
			out[p.Name] = true
		}
	}
	return out, nil
}

// forwarder lazily opens one port-forward per Pod named in an advertised
// address (<pod>.<headless>.<namespace>.svc.<domain>:<port>) and maps the
// address to the local end.
type forwarder struct {
	kc  *kube.Client
	ctx context.Context
	// cluster's layout maps an advertised name to its Pod.
	cluster *clusterfile.Cluster
	// forward opens a port-forward (kc.PortForwardWatched; a seam for
	// unit tests).
	forward func(ctx context.Context, ns, pod string, port int) (local string, done <-chan struct{}, stop func(), err error)

	mu    sync.Mutex
	open  map[string]openForward
	stops []func()
}

// openForward is a port-forward the forwarder hands out: its local end,
// and done, closed once it ended on its own.
type openForward struct {
	local string
	done  <-chan struct{}
}

func (f *forwarder) resolve(advertised string) string {
	host, portStr, err := net.SplitHostPort(advertised)
	if err != nil {
		return advertised
	}
	ns, pod, ok := manifests.PodAt(f.cluster, host)
	if !ok {
		return advertised // not a Pod DNS name: dial it as is
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return advertised
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if o, ok := f.open[advertised]; ok {
		select {
		case <-o.done:
			// Ended on its own: the server end reset a connection (a
			// server refusing a login may), and client-go then closes
			// the whole forward. Its port would refuse every later dial
			// (the next password tried, the next statement): open another.
		default:
			return o.local
		}
	}
	forward := f.forward
	if forward == nil {
		forward = f.kc.PortForwardWatched
	}
	local, done, stop, err := forward(f.ctx, ns, pod, port)
	if err != nil {
		// Unreachable: hand back the advertised name, whose dial error then
		// says which server could not be reached.
		return advertised
	}
	f.open[advertised] = openForward{local: local, done: done}
	f.stops = append(f.stops, stop)
	return local
}

func (f *forwarder) stopAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.stops {
		s()
	}
	f.stops = nil
	f.open = map[string]openForward{}
}
