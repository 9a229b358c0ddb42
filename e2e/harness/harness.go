// Package harness wires the real test parts together for end-to-end runs:
// a namespace and auth Secret on the test control plane, and a Bolt
// simulator that follows the cluster's StatefulSets, with a kwok
// PortForward per Pod so that neo4jctl's port-forwards through the API
// server reach each simulated server — the path a real cluster takes.
package harness

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/neo4jctl/neo4jctl/e2e/neo4jsim"
	"github.com/neo4jctl/neo4jctl/e2e/testenv"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/manifests"
)

// PrepareNamespace creates the namespace (if missing) and the Secret the
// cluster file's spec.auth.secretRef names, holding password.
func PrepareNamespace(ctx context.Context, env *testenv.Env, c *clusterfile.Cluster, ns, password string) error {
	cs, err := env.Clientset()
	if err != nil {
		return err
	}
	_, err = cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", ns, err)
	}
	// Pods cannot be created before the namespace's default ServiceAccount.
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := cs.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{}); err == nil {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("namespace %s: default ServiceAccount never appeared", ns)
		}
		time.Sleep(100 * time.Millisecond)
	}
	ref := c.Spec.Auth.SecretRef
	key := ref.Key
	if key == "" {
		key = "password"
	}
	_, err = cs.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: ref.Name, Namespace: ns},
		StringData: map[string]string{key: password},
	}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create Secret %s/%s: %w", ns, ref.Name, err)
	}
	return prepareIssuer(ctx, env, c, ns)
}

// prepareIssuer creates the cert-manager issuer a certManager cluster
// names (a self-signed one; no cert-manager runs here to issue anything):
// plan's pre-flight refuses a Certificate whose issuer does not exist.
func prepareIssuer(ctx context.Context, env *testenv.Env, c *clusterfile.Cluster, ns string) error {
	if c.Spec.TLS == nil || c.Spec.TLS.CertManager == nil {
		return nil
	}
	ref := c.Spec.TLS.CertManager.IssuerRef
	dyn, err := dynamic.NewForConfig(env.RESTConfig())
	if err != nil {
		return err
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "cert-manager.io/v1", "kind": "Issuer",
		"metadata": map[string]any{"name": ref.Name},
		"spec":     map[string]any{"selfSigned": map[string]any{}},
	}}
	var ri dynamic.ResourceInterface
	if ref.Kind == "ClusterIssuer" {
		u.SetKind("ClusterIssuer")
		ri = dyn.Resource(schema.GroupVersionResource{Group: "cert-manager.io", Version: "v1", Resource: "clusterissuers"})
	} else {
		u.SetNamespace(ns)
		ri = dyn.Resource(schema.GroupVersionResource{Group: "cert-manager.io", Version: "v1", Resource: "issuers"}).Namespace(ns)
	}
	if _, err := ri.Create(ctx, u, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create %s %s: %w", u.GetKind(), ref.Name, err)
	}
	return nil
}

// Sim is a simulator following a cluster's StatefulSets.
type Sim struct {
	*neo4jsim.Simulator
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu   sync.Mutex
	errs []error
}

// StartSim starts an Enterprise (or Community) simulator with no servers and
// follows every StatefulSet the cluster file renders as soon as it exists:
// each Ready Pod becomes a server, and a kwok PortForward sends the Pod's
// Bolt port to that server's loopback listener. The first systemPrimaries
// Pods form the cluster and enable themselves, as bootstrap members do.
// Each server reads its configuration from its own Pod when it (re)starts
// (neo4jsim's FollowStatefulSet), as Neo4j reads neo4j.conf: a ConfigMap
// change reaches a server only when its Pod restarts.
func StartSim(ctx context.Context, env *testenv.Env, c *clusterfile.Cluster, ns, password string, cfg neo4jsim.Config) (*Sim, error) {
	cfg.Password = password
	cfg.Community = c.Spec.Edition == clusterfile.EditionCommunity
	if cfg.DefaultPrimaries == 0 && !cfg.Community {
		// What the rendered neo4j.conf asks of a real cluster
		// (initial.dbms.default_primaries_count), so the default database
		// has as many primaries as it would there.
		cfg.DefaultPrimaries = int(min(manifests.Pools(c)[0].Servers, 3))
	}
	if cfg.Servers == 0 {
		cfg.Servers = -1
	}
	sim, err := neo4jsim.Start(cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	s := &Sim{Simulator: sim, cancel: cancel}
	initial := int(c.Spec.SystemPrimaries)
	if initial == 0 {
		initial = 1
	}
	cs, err := env.Clientset()
	if err != nil {
		cancel()
		sim.Close()
		return nil, err
	}
	for i, pool := range manifests.Pools(c) {
		opts := neo4jsim.FollowOptions{
			Namespace:   ns,
			StatefulSet: pool.StatefulSet,
			OnListen: func(pod *corev1.Pod, server neo4jsim.ServerInfo) {
				// Retried: an API server restarted by a fault test must not
				// leave a server unreachable for the rest of the run.
				var err error
				for attempt := 0; attempt < 50 && ctx.Err() == nil; attempt++ {
					if err = env.PortForward(ctx, ns, pod.Name, int(manifests.PortBolt), portOf(server.Listen)); err == nil {
						return
					}
					time.Sleep(200 * time.Millisecond)
				}
				if ctx.Err() == nil {
					s.fail(fmt.Errorf("port-forward for %s: %w", pod.Name, err))
				}
			},
		}
		if i == 0 {
			opts.InitialMembers = initial
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			// The StatefulSet appears only when neo4jctl applies it.
			for ctx.Err() == nil {
				if _, err := cs.AppsV1().StatefulSets(ns).Get(ctx, opts.StatefulSet, metav1.GetOptions{}); err == nil {
					if err := sim.FollowStatefulSet(ctx, env.RESTConfig(), opts); err != nil && ctx.Err() == nil {
						s.fail(err)
					}
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
		}()
	}
	return s, nil
}

func (s *Sim) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errs = append(s.errs, err)
}

// Errs returns what went wrong while following Kubernetes.
func (s *Sim) Errs() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]error(nil), s.errs...)
}

// Close stops following and shuts the simulator down.
func (s *Sim) Close() {
	s.cancel()
	s.wg.Wait()
	s.Simulator.Close()
}

func portOf(hostport string) int {
	var p int
	for i := len(hostport) - 1; i >= 0; i-- {
		if hostport[i] == ':' {
			fmt.Sscanf(hostport[i+1:], "%d", &p)
			break
		}
	}
	return p
}
