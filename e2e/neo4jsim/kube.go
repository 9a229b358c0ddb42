package neo4jsim

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
)

// FollowOptions says which StatefulSet FollowStatefulSet mirrors and how.
type FollowOptions struct {
	Namespace   string
	StatefulSet string
	// HeadlessService names the governing Service used in Pod DNS names;
	// default: the StatefulSet's spec.serviceName.
	HeadlessService string
	// BoltPort is the port in advertised addresses (default 7687).
	BoltPort int
	// Advertise overrides the advertised address of a Pod's server (default
	// <pod>.<service>.<namespace>.svc.cluster.local:<BoltPort>).
	Advertise func(pod *corev1.Pod) string
	// OnListen is called once per new server, outside the simulator's lock,
	// after its loopback listener is up — e.g. to create a kwok PortForward
	// so that port-forwards to the Pod reach the simulated server.
	OnListen func(pod *corev1.Pod, server ServerInfo)
	// InitialMembers is how many of the first Pods to become Ready form the
	// cluster: they are Enabled automatically and host system as primaries,
	// as the bootstrap members of a real cluster do. Later Pods join Free.
	InitialMembers int
}

// FollowStatefulSet mirrors the Pods of a StatefulSet with an informer: a
// Pod that becomes Ready appears as a server (Free, or Enabled while the
// cluster is still forming) with its own loopback listener; a Pod that stops
// being Ready, or is deleted, makes its server Unavailable; a Pod that comes
// back Ready makes it Available again with the same serverId, because the
// server's identity is its volume (the PersistentVolumeClaim's uid, or the
// Pod name without a claim). It returns once the informer has synced and
// keeps following until ctx is done.
func (s *Simulator) FollowStatefulSet(ctx context.Context, cfg *rest.Config, opts FollowOptions) error {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("neo4jsim: kubernetes client: %w", err)
	}
	sts, err := cs.AppsV1().StatefulSets(opts.Namespace).Get(ctx, opts.StatefulSet, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("neo4jsim: get StatefulSet %s/%s: %w", opts.Namespace, opts.StatefulSet, err)
	}
	if opts.HeadlessService == "" {
		opts.HeadlessService = sts.Spec.ServiceName
	}
	if opts.BoltPort == 0 {
		opts.BoltPort = 7687
	}
	selector, err := metav1.LabelSelectorAsSelector(sts.Spec.Selector)
	if err != nil {
		return fmt.Errorf("neo4jsim: StatefulSet selector: %w", err)
	}
	f := &follower{sim: s, cs: cs, opts: opts}
	factory := informers.NewSharedInformerFactoryWithOptions(cs, 10*time.Minute,
		informers.WithNamespace(opts.Namespace),
		informers.WithTweakListOptions(func(lo *metav1.ListOptions) { lo.LabelSelector = selector.String() }))
	inf := factory.Core().V1().Pods().Informer()
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { f.observe(ctx, obj, false) },
		UpdateFunc: func(_, obj any) { f.observe(ctx, obj, false) },
		DeleteFunc: func(obj any) { f.observe(ctx, obj, true) },
	}); err != nil {
		return err
	}
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		return fmt.Errorf("neo4jsim: Pod informer for %s/%s did not sync", opts.Namespace, opts.StatefulSet)
	}
	return nil
}

type follower struct {
	sim    *Simulator
	cs     kubernetes.Interface
	opts   FollowOptions
	joined int
}

func podReady(p *corev1.Pod) bool {
	if p.DeletionTimestamp != nil {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// fact: server.identity
// identity is what makes a restarted Pod the same Neo4j server: its data
// volume. A new claim (a wiped volume) is a new server.
func (f *follower) identity(ctx context.Context, p *corev1.Pod) string {
	// The StatefulSet controller builds a Pod's volumes from a map, so
	// their order changes between restarts: take the claim with the
	// smallest name, or a rolled Pod would come back as a new server.
	var claims []string
	for _, v := range p.Spec.Volumes {
		if v.PersistentVolumeClaim != nil {
			claims = append(claims, v.PersistentVolumeClaim.ClaimName)
		}
	}
	sort.Strings(claims)
	for _, name := range claims {
		pvc, err := f.cs.CoreV1().PersistentVolumeClaims(p.Namespace).Get(ctx, name, metav1.GetOptions{})
		if err == nil {
			return "pvc:" + string(pvc.UID)
		}
	}
	return "pod:" + p.Namespace + "/" + p.Name
}

func (f *follower) advertise(p *corev1.Pod) string {
	if f.opts.Advertise != nil {
		return f.opts.Advertise(p)
	}
	host := fmt.Sprintf("%s.%s.%s.svc.cluster.local", p.Name, f.opts.HeadlessService, p.Namespace)
	return net.JoinHostPort(host, strconv.Itoa(f.opts.BoltPort))
}

func (f *follower) observe(ctx context.Context, obj any, deleted bool) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	ready := !deleted && podReady(p)
	var id string
	if ready {
		id = f.identity(ctx, p) // API call: outside the simulator's lock
	}
	s := f.sim
	s.mu.Lock()
	srv := s.serverForPod(p)
	if srv != nil {
		srv.podReady = ready
	}
	if !ready {
		if srv != nil && srv.available {
			srv.available = false
			for c := range srv.conns {
				c.nc.Close()
			}
			s.advance()
		}
		s.mu.Unlock()
		return
	}
	if srv != nil && srv.identity != id {
		// Same Pod name, different volume: the old server is gone for good
		// and a new one joins.
		srv.available = false
		srv.podKey = ""
		srv = nil
	}
	if srv == nil {
		for _, x := range s.servers {
			if x.identity == id {
				srv = x
			}
		}
	}
	var added *ServerInfo
	if srv == nil {
		state := StateFree
		sysPrimary := false
		if f.joined < f.opts.InitialMembers {
			state, sysPrimary = StateEnabled, true
		}
		n, err := s.addServerLocked(f.advertise(p), id, state, sysPrimary)
		if err != nil {
			s.mu.Unlock()
			return
		}
		f.joined++
		srv = n
		info := s.info(n)
		added = &info
	}
	srv.podKey = p.Namespace + "/" + p.Name
	srv.podReady = true
	if srv.downAfterRestart && added == nil && !srv.available {
		// The fault: the Pod is back, its server is not.
		s.mu.Unlock()
		return
	}
	srv.available = true
	s.advance()
	s.mu.Unlock()
	if added != nil && f.opts.OnListen != nil {
		f.opts.OnListen(p, *added)
	}
}

// serverForPod finds the server currently backing a Pod.
func (s *Simulator) serverForPod(p *corev1.Pod) *simServer {
	key := p.Namespace + "/" + p.Name
	for _, srv := range s.servers {
		if srv.podKey == key {
			return srv
		}
	}
	return nil
}
