package neo4jsim

import (
	"context"
	"fmt"
	"net"
	"regexp"
	"sort"
	"strconv"
	"strings"
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
	// cluster, among those whose configuration makes them system primaries:
	// they are Enabled automatically, as the bootstrap members of a real
	// cluster are. Later Pods join Free (unless their configuration enables
	// free servers automatically). Whether a server hosts system as a
	// primary is its own server.cluster.system_database_mode, never its
	// join order.
	InitialMembers int
}

// FollowStatefulSet mirrors the Pods of a StatefulSet with an informer: a
// Pod that becomes Ready appears as a server (Free, or Enabled while the
// cluster is still forming) with its own loopback listener; a Pod that stops
// being Ready, or is deleted, makes its server Unavailable; a Pod that comes
// back Ready makes it Available again with the same serverId, because the
// server's identity is its volume (the PersistentVolumeClaim's uid, or the
// Pod name without a claim). Each time a server starts in a Pod it reads
// that Pod's configuration (mounted ConfigMaps, NEO4J_* environment) and
// runs its image's version. It returns once the informer has synced and
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

func (f *follower) advertise(p *corev1.Pod, conf map[string]string) string {
	if f.opts.Advertise != nil {
		return f.opts.Advertise(p)
	}
	if chartPod(p) {
		return f.chartAdvertise(p, conf)
	}
	host := fmt.Sprintf("%s.%s.%s.svc.cluster.local", p.Name, f.opts.HeadlessService, p.Namespace)
	return net.JoinHostPort(host, strconv.Itoa(f.opts.BoltPort))
}

// chartAdvertise is the advertised Bolt address of a server Pod of the
// Helm chart, read from the settings its ConfigMaps give it (conf).
func (f *follower) chartAdvertise(p *corev1.Pod, conf map[string]string) string {
	port := strconv.Itoa(f.opts.BoltPort)
	if v, ok := conf["server.bolt.advertised_address"]; ok {
		if v = strings.TrimSpace(v); v != "" && !strings.Contains(v, "$") {
			// A value of the user's own (config: in the values).
			if h, hp, err := net.SplitHostPort(v); err == nil {
				if hp == "" {
					hp = port
				}
				return net.JoinHostPort(h, hp)
			}
			return net.JoinHostPort(v, port)
		}
		// fact: helm.advertised-address
		// The chart's clustered server advertises its release's
		// ClusterIP Service (neo4j-config.yaml: server.bolt.advertised_address
		// is $SERVICE_NEO4J, <fullname>.<namespace>.svc.<domain>), not a
		// per-Pod name.
		if ctr := neo4jContainer(p); ctr != nil {
			for _, e := range ctr.Env {
				if e.Name == "SERVICE_NEO4J" && e.Value != "" {
					return net.JoinHostPort(e.Value, port)
				}
			}
		}
	}
	// fact: helm.standalone-advertised-address
	// The chart sets advertised addresses only for a clustered server:
	// a standalone advertises server.default_advertised_address, whose
	// default is localhost.
	host := strings.TrimSpace(conf["server.default_advertised_address"])
	if host == "" {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// chartPod reports whether p is a server Pod of the official Neo4j Helm
// chart, whose labels, names, addresses and configuration layout differ
// from neo4jctl's (templates/neo4j-statefulset.yaml labels every server
// Pod helm.neo4j.com/instance).
func chartPod(p *corev1.Pod) bool {
	return p.Labels["helm.neo4j.com/instance"] != ""
}

// podStart is what a server reads when it starts in a Pod: its
// configuration and the version of its image.
type podStart struct {
	conf    map[string]string
	version string
}

// readStart reads what the server in p starts with
// (fact: server.config-at-start, fact: server.version): the neo4j.conf
// files of the ConfigMaps the Pod mounts, then the NEO4J_* environment of
// its Neo4j container, which the image's entrypoint writes over them; and
// the container image's tag.
func (f *follower) readStart(ctx context.Context, p *corev1.Pod) podStart {
	st := podStart{conf: map[string]string{}, version: f.sim.cfg.Version}
	ctr := neo4jContainer(p)
	if ctr == nil {
		return st
	}
	st.version = imageVersion(ctr.Image, f.sim.cfg.Version)
	mounted := map[string]bool{}
	for _, c := range append(append([]corev1.Container(nil), p.Spec.InitContainers...), p.Spec.Containers...) {
		for _, m := range c.VolumeMounts {
			mounted[m.Name] = true
		}
	}
	readCM := func(name string, items []corev1.KeyToPath) {
		cm, err := f.cs.CoreV1().ConfigMaps(p.Namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return
		}
		keys := make([]string, 0, len(cm.Data))
		for k := range cm.Data {
			keys = append(keys, k)
		}
		if len(items) > 0 {
			keys = keys[:0]
			for _, it := range items {
				keys = append(keys, it.Key)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			switch {
			case strings.HasSuffix(k, ".conf"):
				parseConf(cm.Data[k], st.conf)
			case chartPod(p) && !strings.HasSuffix(k, ".xml") && strings.Contains(k, "."):
				// fact: helm.config-directory
				// The chart mounts its ConfigMaps as a directory of
				// files, one per setting (NEO4J_CONF=/config/, the
				// image's EXTENDED_CONF), later sources of the
				// projected volume over earlier ones.
				st.conf[k] = cm.Data[k]
			}
		}
	}
	for _, v := range p.Spec.Volumes {
		if !mounted[v.Name] {
			continue
		}
		switch {
		case v.ConfigMap != nil:
			readCM(v.ConfigMap.Name, v.ConfigMap.Items)
		case v.Projected != nil:
			for _, src := range v.Projected.Sources {
				if src.ConfigMap != nil {
					readCM(src.ConfigMap.Name, src.ConfigMap.Items)
				}
			}
		}
	}
	if mode, ok := initSystemMode(p); ok {
		st.conf["server.cluster.system_database_mode"] = mode
	}
	env := map[string]string{}
	// Kubernetes expands $(VAR) from the variables defined before it and
	// leaves unknown references as they are.
	expand := func(v string) string {
		return envRefRE.ReplaceAllStringFunc(v, func(ref string) string {
			if val, ok := env[ref[2:len(ref)-1]]; ok {
				return val
			}
			return ref
		})
	}
	for _, e := range ctr.Env {
		val := e.Value
		if e.ValueFrom != nil {
			val = ""
			if fr := e.ValueFrom.FieldRef; fr != nil {
				switch fr.FieldPath {
				case "metadata.name":
					val = p.Name
				case "metadata.namespace":
					val = p.Namespace
				case "status.podIP":
					val = p.Status.PodIP
				}
			}
		} else {
			val = expand(val)
		}
		env[e.Name] = val
		if name, ok := envSetting(e.Name); ok {
			st.conf[name] = val
		}
	}
	return st
}

// initSystemMode is the server.cluster.system_database_mode line neo4jctl's
// init-conf container appends to the neo4j.conf it writes for the Pod
// (manifests.systemModeScript): PRIMARY when the Pod's ordinal (its
// apps.kubernetes.io/pod-index label, else its name's suffix) is below
// NEO4JCTL_SYSTEM_PRIMARIES, else SECONDARY; nothing without that variable.
// The simulator runs no container, so it reads what that script would
// write; the manifests tests run the script itself in bash.
func initSystemMode(p *corev1.Pod) (string, bool) {
	for _, c := range p.Spec.InitContainers {
		for _, e := range c.Env {
			if e.Name != "NEO4JCTL_SYSTEM_PRIMARIES" || e.ValueFrom != nil {
				continue
			}
			primaries, err := strconv.Atoi(e.Value)
			if err != nil {
				return "", false
			}
			idx := p.Labels["apps.kubernetes.io/pod-index"]
			if idx == "" {
				idx = p.Name[strings.LastIndex(p.Name, "-")+1:]
			}
			ordinal, err := strconv.Atoi(idx)
			if err != nil {
				return "", false
			}
			if ordinal < primaries {
				return "PRIMARY", true
			}
			return "SECONDARY", true
		}
	}
	return "", false
}

var envRefRE = regexp.MustCompile(`\$\([A-Za-z_][A-Za-z0-9_]*\)`)

// neo4jContainer is the container running Neo4j: the one named neo4j, or
// the first.
func neo4jContainer(p *corev1.Pod) *corev1.Container {
	for i := range p.Spec.Containers {
		if p.Spec.Containers[i].Name == "neo4j" {
			return &p.Spec.Containers[i]
		}
	}
	if len(p.Spec.Containers) > 0 {
		return &p.Spec.Containers[0]
	}
	return nil
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
	var start podStart
	if ready {
		// API calls: outside the simulator's lock.
		id = f.identity(ctx, p)
		start = f.readStart(ctx, p)
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
		n, err := s.addServerLocked(f.advertise(p, start.conf), id, start.conf, start.version)
		if err != nil {
			s.mu.Unlock()
			return
		}
		// fact: server.bootstrap: the first members whose system database
		// mode is PRIMARY form the cluster and are enabled; later servers
		// join Free unless free servers are enabled automatically.
		switch {
		case f.joined < f.opts.InitialMembers && n.sysPrimary:
			f.joined++
			s.enableWithDefaults(n)
		case strings.EqualFold(s.startupValue(n, "initial.dbms.automatically_enable_free_servers"), "true"):
			s.enableWithDefaults(n)
		}
		n.podUID = string(p.UID)
		srv = n
		info := s.info(n)
		added = &info
	}
	srv.podKey = p.Namespace + "/" + p.Name
	srv.podReady = true
	if added == nil && (srv.podUID != string(p.UID) || (!srv.available && !srv.down)) {
		// The server (re)starts in this Pod: it reads its configuration
		// and runs its image's version; live changes are gone. Under the
		// fault below too: the process in the new Pod is the new image's,
		// so when it rejoins it reports that version (fact:
		// server.version).
		s.applyStartConfig(srv, start.conf, start.version)
		srv.podUID = string(p.UID)
	}
	if srv.downAfterRestart && added == nil && !srv.available {
		// The fault: the Pod is back, its server is not. The process
		// in the new Pod started with that Pod's configuration all the
		// same (fact: server.config-at-start), which is what it runs
		// when it does rejoin.
		if srv.podUID != string(p.UID) {
			s.applyStartConfig(srv, start.conf, start.version)
			srv.podUID = string(p.UID)
		}
		s.mu.Unlock()
		return
	}
	srv.available = !srv.down
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
