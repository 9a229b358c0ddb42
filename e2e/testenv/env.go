package testenv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Options configure Start. The zero value starts a complete environment in a
// fresh temporary directory with the binaries build.sh put in its cache.
type Options struct {
	// BinDir holds the binaries; "" means DefaultBinDir().
	BinDir string
	// Dir is the environment directory (certificates, etcd data, logs,
	// kubeconfig, state file). "" means a new temporary directory, which
	// Stop removes; a given Dir is kept so its logs can be read.
	Dir string
	// Build runs build.sh when binaries are missing (≈ 9 min cold).
	Build bool
	// Nodes is the number of fake kwok Nodes; 0 means 3.
	Nodes int
	// Detach starts the components in their own session so they outlive
	// the calling process (the `testenv up` command). Otherwise they are
	// killed when the caller dies.
	Detach bool
	// Logf receives progress lines; nil discards them.
	Logf func(format string, args ...any)
}

// Env is a running control plane: etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler and kwok on 127.0.0.1.
type Env struct {
	// Dir is the environment directory; component logs are Dir/<name>.log.
	Dir string
	// Kubeconfig is the path of an admin (system:masters) kubeconfig.
	Kubeconfig string
	// Host is the API server URL, https://127.0.0.1:PORT.
	Host string
	// CA is the PEM of the CA that signed the API server's certificate.
	CA []byte
	// CAFile is the path of CA.
	CAFile string
	// AuditLogPath is the API server's audit log: one JSON event per line
	// at Metadata level (see AuditEvents).
	AuditLogPath string
	// Nodes are the names of the fake kwok Nodes.
	Nodes []string
	// BinDir holds the binaries the components run from.
	BinDir string

	mu       sync.Mutex
	procs    []*component // in start order
	cfg      *rest.Config
	ownsDir  bool
	stopped  bool
	detached bool
}

// component names, in start order; Stop goes in reverse.
const (
	compEtcd      = "etcd"
	compAPIServer = "kube-apiserver"
	compKCM       = "kube-controller-manager"
	compScheduler = "kube-scheduler"
	compKwok      = "kwok"
)

// Start starts a control plane and returns when the API server is ready,
// the CRDs are Established, the Nodes are Ready and the default
// StorageClass exists. Random free ports occasionally collide with another
// process grabbing the same one, so a failed start is retried once.
func Start(ctx context.Context, opts Options) (*Env, error) {
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	if opts.Nodes == 0 {
		opts.Nodes = 3
	}
	if opts.BinDir == "" {
		opts.BinDir = DefaultBinDir()
	}
	if missing := missingFiles(opts.BinDir); len(missing) > 0 {
		if !opts.Build {
			return nil, fmt.Errorf("testenv: %s missing in %s: run e2e/testenv/build.sh (or set Options.Build)", strings.Join(missing, ", "), opts.BinDir)
		}
		opts.Logf("testenv: building %s (cold: ≈ 9 min)", strings.Join(missing, ", "))
		dir, err := Build(ctx, logfWriter(opts.Logf))
		if err != nil {
			return nil, fmt.Errorf("testenv: build: %w", err)
		}
		opts.BinDir = dir
		if missing := missingFiles(opts.BinDir); len(missing) > 0 {
			return nil, fmt.Errorf("testenv: build.sh did not produce %s in %s", strings.Join(missing, ", "), opts.BinDir)
		}
	}

	env, err := startOnce(ctx, opts)
	if err == nil || ctx.Err() != nil {
		return env, err
	}
	opts.Logf("testenv: start failed, retrying once with new ports: %v", err)
	env, err2 := startOnce(ctx, opts)
	if err2 != nil {
		return nil, fmt.Errorf("%w (first attempt: %v)", err2, err)
	}
	return env, nil
}

// ports are the TCP ports of one environment.
type ports struct {
	EtcdClient, EtcdPeer, APIServer, Kwok int
}

func startOnce(ctx context.Context, opts Options) (_ *Env, err error) {
	env := &Env{BinDir: opts.BinDir, detached: opts.Detach}
	if opts.Dir == "" {
		if env.Dir, err = os.MkdirTemp("", "neo4jctl-testenv-"); err != nil {
			return nil, err
		}
		env.ownsDir = true
	} else {
		env.Dir, err = filepath.Abs(opts.Dir)
		if err != nil {
			return nil, err
		}
		// A retried start must not reuse the first attempt's etcd data.
		if err := os.RemoveAll(filepath.Join(env.Dir, "etcd")); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(env.Dir, 0o755); err != nil {
			return nil, err
		}
	}
	defer func() {
		if err != nil {
			env.stopProcesses()
			if env.ownsDir {
				_ = os.RemoveAll(env.Dir)
			}
		}
	}()

	begin := time.Now()
	pk, err := writePKI(filepath.Join(env.Dir, "pki"))
	if err != nil {
		return nil, fmt.Errorf("testenv: certificates: %w", err)
	}
	env.CA, env.CAFile = pk.caPEM, pk.CACert
	env.AuditLogPath = filepath.Join(env.Dir, "audit.log")

	p, err := freePorts()
	if err != nil {
		return nil, err
	}
	env.Host = "https://127.0.0.1:" + strconv.Itoa(p.APIServer)
	env.Kubeconfig = filepath.Join(env.Dir, "kubeconfig")
	if err := writeKubeconfig(env.Kubeconfig, env.Host, pk.caPEM, clientcmdapi.AuthInfo{ClientCertificateData: pk.adminCertPEM, ClientKeyData: pk.adminKeyPEM}); err != nil {
		return nil, err
	}
	env.cfg = &rest.Config{
		Host:            env.Host,
		TLSClientConfig: rest.TLSClientConfig{CAData: pk.caPEM, CertData: pk.adminCertPEM, KeyData: pk.adminKeyPEM},
		// Tests create objects in bursts; the default 5 QPS throttles them.
		QPS:   200,
		Burst: 400,
	}
	auditPolicy := filepath.Join(env.Dir, "audit-policy.yaml")
	if err := os.WriteFile(auditPolicy, []byte(auditPolicyYAML), 0o644); err != nil {
		return nil, err
	}
	kwokConfig := filepath.Join(env.Dir, "kwok.yaml")
	if err := writeKwokConfig(kwokConfig, filepath.Join(filepath.Dir(env.BinDir), "kwok", "stage")); err != nil {
		return nil, err
	}

	// etcd
	etcdURL := "http://127.0.0.1:" + strconv.Itoa(p.EtcdClient)
	peerURL := "http://127.0.0.1:" + strconv.Itoa(p.EtcdPeer)
	if _, err := env.start(compEtcd, []string{
		"--name=default",
		"--data-dir=" + filepath.Join(env.Dir, "etcd"),
		"--listen-client-urls=" + etcdURL,
		"--advertise-client-urls=" + etcdURL,
		"--listen-peer-urls=" + peerURL,
		"--initial-advertise-peer-urls=" + peerURL,
		"--initial-cluster=default=" + peerURL,
		"--unsafe-no-fsync", // test data: durability is not worth the latency
		// A single member elects itself after one election timeout; the
		// default 1 s would be a third of the start time.
		"--heartbeat-interval=20",
		"--election-timeout=200",
		"--log-level=warn",
	}); err != nil {
		return nil, err
	}
	if err := env.waitFor(ctx, compEtcd, 30*time.Second, func(ctx context.Context) (bool, error) {
		return etcdHealthy(ctx, etcdURL+"/health")
	}); err != nil {
		return nil, err
	}
	opts.Logf("testenv: etcd healthy after %s", time.Since(begin).Round(time.Millisecond))

	// kube-apiserver
	if _, err := env.start(compAPIServer, []string{
		"--etcd-servers=" + etcdURL,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(p.APIServer),
		"--cert-dir=" + filepath.Join(env.Dir, "pki"),
		"--tls-cert-file=" + pk.ServingCert,
		"--tls-private-key-file=" + pk.ServingKey,
		"--client-ca-file=" + pk.CACert,
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + pk.SAPub,
		"--service-account-signing-key-file=" + pk.SAKey,
		"--service-cluster-ip-range=10.0.0.0/24",
		// A loopback advertise address is not a valid Endpoints IP.
		"--endpoint-reconciler-type=none",
		// kwok's Nodes also report a Hostname address, which would need DNS.
		"--kubelet-preferred-address-types=InternalIP",
		// kwok serves the kubelet API with the same certificate, signed by
		// our CA, so port-forward traffic is verified.
		"--kubelet-certificate-authority=" + pk.CACert,
		"--kubelet-client-certificate=" + pk.AdminCert,
		"--kubelet-client-key=" + pk.AdminKey,
		"--allow-privileged=true",
		"--audit-policy-file=" + auditPolicy,
		"--audit-log-path=" + env.AuditLogPath,
		"--audit-log-maxsize=0", // never rotate: tests count lines in one file
		"--profiling=false",
		"--v=1",
	}); err != nil {
		return nil, err
	}
	if err := env.waitReady(ctx); err != nil {
		return nil, err
	}
	opts.Logf("testenv: kube-apiserver ready after %s", time.Since(begin).Round(time.Millisecond))

	// The controller manager and scheduler need nothing but the API server;
	// --secure-port=0 keeps them off the fixed ports 10257/10259 so two
	// environments can run side by side.
	if _, err := env.start(compKCM, []string{
		"--kubeconfig=" + env.Kubeconfig,
		"--leader-elect=false",
		"--secure-port=0",
		"--enable-hostpath-provisioner",
		"--service-account-private-key-file=" + pk.SAKey,
		"--root-ca-file=" + pk.CACert,
		"--cluster-signing-cert-file=" + pk.CACert,
		"--cluster-signing-key-file=" + pk.CAKey,
		"--controllers=*",
		"--v=1",
	}); err != nil {
		return nil, err
	}
	if _, err := env.start(compScheduler, []string{
		"--kubeconfig=" + env.Kubeconfig,
		"--leader-elect=false",
		"--secure-port=0",
		"--v=1",
	}); err != nil {
		return nil, err
	}

	cs, err := kubernetes.NewForConfig(env.cfg)
	if err != nil {
		return nil, err
	}
	// kwok watches its PortForward CRDs from the start, so those must be
	// Established before kwok runs; the big monitoring and cert-manager
	// schemas finish compiling meanwhile.
	crds, err := env.createCRDs(ctx, filepath.Dir(env.BinDir))
	if err != nil {
		return nil, err
	}
	if err := env.waitEstablished(ctx, crds[:kwokCRDCount]); err != nil {
		return nil, err
	}
	if _, err := env.start(compKwok, []string{
		"--kubeconfig=" + env.Kubeconfig,
		"--config=" + kwokConfig,
		"--manage-nodes-with-annotation-selector=" + kwokNodeAnnotation + "=fake",
		"--node-ip=127.0.0.1",
		// The API server dials InternalIP:<daemonEndpoints port> for
		// port-forward; kwok reports --node-port there.
		"--server-address=127.0.0.1:" + strconv.Itoa(p.Kwok),
		"--node-port=" + strconv.Itoa(p.Kwok),
		"--tls-cert-file=" + pk.ServingCert,
		"--tls-private-key-file=" + pk.ServingKey,
		"--node-lease-duration-seconds=40",
		"--cidr=10.244.0.0/16", // not overlapping the service range
		"--enable-crds=" + kwokPortForwardKind + "," + kwokClusterPortForwardKind,
	}); err != nil {
		return nil, err
	}
	if err := env.bootstrapObjects(ctx, cs, opts.Nodes); err != nil {
		return nil, err
	}
	opts.Logf("testenv: nodes ready after %s", time.Since(begin).Round(time.Millisecond))
	if err := env.waitEstablished(ctx, crds); err != nil {
		return nil, err
	}
	if err := env.writeState(); err != nil {
		return nil, err
	}
	opts.Logf("testenv: ready after %s (%s)", time.Since(begin).Round(time.Millisecond), env.Dir)
	return env, nil
}

// auditPolicyYAML logs every request at Metadata level (who, verb, object,
// response code — no bodies) and skips the RequestReceived stage so each
// request is one line. Questions to the authorizer are the exception: a
// SelfSubjectRulesReview is cluster-scoped and names its namespace only in
// its body, so without the body a test cannot tell its own binary's review
// from a parallel test's (AuditEvent.ReviewNamespace).
const auditPolicyYAML = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages:
- RequestReceived
rules:
- level: Request
  resources:
  - group: authorization.k8s.io
    resources: ["selfsubjectrulesreviews", "selfsubjectaccessreviews"]
- level: Metadata
`

// freePorts asks the kernel for distinct free ports. They are released
// before the components bind them, hence Start's single retry.
func freePorts() (ports, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	nums := make([]int, 4)
	for i := range nums {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return ports{}, fmt.Errorf("testenv: free port: %w", err)
		}
		ls = append(ls, l)
		nums[i] = l.Addr().(*net.TCPAddr).Port
	}
	return ports{EtcdClient: nums[0], EtcdPeer: nums[1], APIServer: nums[2], Kwok: nums[3]}, nil
}

// start runs one component from BinDir, logging to Dir/<name>.log.
func (e *Env) start(name string, args []string) (*component, error) {
	p, err := startProcess(name, filepath.Join(e.BinDir, name), args, filepath.Join(e.Dir, name+".log"), e.detached)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	e.procs = append(e.procs, p)
	e.mu.Unlock()
	return p, nil
}

// process returns the recorded component, nil if unknown.
func (e *Env) process(name string) *component {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, p := range e.procs {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// waitFor polls cond every 50 ms until it is true, the timeout passes or a
// component exits; errors name the component whose log explains them.
func (e *Env) waitFor(ctx context.Context, what string, timeout time.Duration, cond func(context.Context) (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var lastErr error
	for {
		if err := e.checkExited(); err != nil {
			return err
		}
		attemptCtx, attemptCancel := context.WithTimeout(ctx, 5*time.Second)
		ok, err := cond(attemptCtx)
		attemptCancel()
		if ok {
			return nil
		}
		if err != nil {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			log := what
			if e.process(what) == nil {
				log = compAPIServer
			}
			return fmt.Errorf("testenv: waiting for %s: %v (last error: %v)\n--- tail of %s.log ---\n%s",
				what, ctx.Err(), lastErr, log, logTail(filepath.Join(e.Dir, log+".log"), 30))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// checkExited reports the first component that has exited, with its log.
func (e *Env) checkExited() error {
	e.mu.Lock()
	procs := append([]*component(nil), e.procs...)
	e.mu.Unlock()
	for _, p := range procs {
		if gone, werr := p.exited(); gone {
			return fmt.Errorf("testenv: %s exited (%v)\n--- tail of %s ---\n%s", p.Name, werr, p.Log, logTail(p.Log, 30))
		}
	}
	return nil
}

// etcdHealthy reads etcd's /health JSON ({"health":"true",...}).
func etcdHealthy(ctx context.Context, url string) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	var h struct {
		Health string `json:"health"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		return false, fmt.Errorf("etcd /health: %w", err)
	}
	return h.Health == "true", nil
}

// waitReady waits until /readyz answers 200 with the admin certificate,
// then checks /version so a wrongly built binary is noticed early.
func (e *Env) waitReady(ctx context.Context) error {
	rt, err := rest.TransportFor(e.cfg)
	if err != nil {
		return err
	}
	client := &http.Client{Transport: rt}
	get := func(ctx context.Context, path string) (int, []byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.Host+path, nil)
		if err != nil {
			return 0, nil, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return resp.StatusCode, body, err
	}
	if err := e.waitFor(ctx, compAPIServer, 90*time.Second, func(ctx context.Context) (bool, error) {
		code, body, err := get(ctx, "/readyz")
		if err != nil {
			return false, err
		}
		if code != http.StatusOK {
			return false, fmt.Errorf("/readyz: HTTP %d: %s", code, strings.TrimSpace(string(body)))
		}
		return true, nil
	}); err != nil {
		return err
	}
	code, body, err := get(ctx, "/version")
	if err != nil {
		return err
	}
	var v struct {
		GitVersion string `json:"gitVersion"`
	}
	if err := json.Unmarshal(body, &v); code != http.StatusOK || err != nil {
		return fmt.Errorf("testenv: /version: HTTP %d: %v", code, err)
	}
	if v.GitVersion != KubernetesVersion {
		return fmt.Errorf("testenv: kube-apiserver reports %q, want %s: rebuild with e2e/testenv/build.sh", v.GitVersion, KubernetesVersion)
	}
	return nil
}

// RESTConfig returns a copy of the admin client configuration.
func (e *Env) RESTConfig() *rest.Config {
	return rest.CopyConfig(e.cfg)
}

// Clientset returns a typed admin client.
func (e *Env) Clientset() (*kubernetes.Clientset, error) {
	return kubernetes.NewForConfig(e.RESTConfig())
}

// Stop stops the components in the order that lets each exit promptly
// (kwok, scheduler, controller manager, API server, then etcd: with etcd
// gone first the API server takes ≈ 250 s to exit), after removing the
// directories the host-path provisioner created for the environment's
// PersistentVolumes. It removes Dir when Start created it. Stop is safe to
// call more than once.
func (e *Env) Stop() error {
	e.mu.Lock()
	if e.stopped {
		e.mu.Unlock()
		return nil
	}
	e.stopped = true
	e.mu.Unlock()

	var errs []error
	if api := e.process(compAPIServer); api != nil && api.alive() {
		if err := e.removeHostPathVolumes(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := e.stopProcesses(); err != nil {
		errs = append(errs, err)
	}
	if e.ownsDir && len(errs) == 0 {
		if err := os.RemoveAll(e.Dir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// stopProcesses stops every recorded component in reverse start order.
func (e *Env) stopProcesses() error {
	e.mu.Lock()
	procs := append([]*component(nil), e.procs...)
	e.mu.Unlock()
	var errs []error
	for i := len(procs) - 1; i >= 0; i-- {
		if err := e.stopComponent(procs[i]); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// stopComponent stops one component; the API server is killed as soon as
// it has stopped listening (see stopWhen).
func (e *Env) stopComponent(p *component) error {
	if p.Name != compAPIServer {
		return p.stop(stopGrace)
	}
	addr := strings.TrimPrefix(e.Host, "https://")
	return p.stopWhen(stopGrace, func() bool {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err != nil {
			return true
		}
		_ = c.Close()
		return false
	})
}

// RestartAPIServer stops the API server and starts it again with the same
// flags and port, then waits until it is ready — for tests of what clients
// do while it is gone. In an environment shared across packages this
// disturbs the others; fault tests should Start their own.
func (e *Env) RestartAPIServer(ctx context.Context) error {
	old := e.process(compAPIServer)
	if old == nil {
		return errors.New("testenv: RestartAPIServer: this environment has no recorded kube-apiserver process")
	}
	if err := e.stopComponent(old); err != nil {
		return err
	}
	p, err := startProcess(old.Name, old.Exe, old.Args, old.Log, e.detached)
	if err != nil {
		return err
	}
	e.mu.Lock()
	for i := range e.procs {
		if e.procs[i] == old {
			e.procs[i] = p
		}
	}
	e.mu.Unlock()
	if err := e.waitReady(ctx); err != nil {
		return err
	}
	return e.writeState()
}

// MemoryRSS returns the resident memory of each running component in bytes.
func (e *Env) MemoryRSS() map[string]int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	m := make(map[string]int64, len(e.procs))
	for _, p := range e.procs {
		m[p.Name] = p.rssBytes()
	}
	return m
}

// writeKubeconfig writes a single-context kubeconfig with everything
// embedded, so it can be copied elsewhere.
func writeKubeconfig(path, host string, caPEM []byte, auth clientcmdapi.AuthInfo) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["testenv"] = &clientcmdapi.Cluster{Server: host, CertificateAuthorityData: caPEM}
	cfg.AuthInfos["testenv"] = &auth
	cfg.Contexts["testenv"] = &clientcmdapi.Context{Cluster: "testenv", AuthInfo: "testenv", Namespace: "default"}
	cfg.CurrentContext = "testenv"
	return clientcmd.WriteToFile(*cfg, path)
}

// logfWriter adapts a Logf function to an io.Writer, one call per line.
type logfWriter func(format string, args ...any)

func (f logfWriter) Write(b []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		f("%s", line)
	}
	return len(b), nil
}

// Running returns the PIDs of the components that are still running, by
// name.
func (e *Env) Running() map[string]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	m := make(map[string]int)
	for _, p := range e.procs {
		if p.alive() {
			m[p.Name] = p.PID
		}
	}
	return m
}
