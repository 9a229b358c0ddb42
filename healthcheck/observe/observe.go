package observe

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/neo4jctl/neo4jctl/healthcheck"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/internal/neo4j"
	"github.com/neo4jctl/neo4jctl/internal/pipeline"
	"github.com/neo4jctl/neo4jctl/internal/state"
	"github.com/neo4jctl/neo4jctl/manifests"
)

// Options shape one observation.
type Options struct {
	// Recheck is how long to wait before reading SHOW DATABASES again when
	// the first read shows two writers for a database.
	Recheck time.Duration
	// StatusCheckTimeout is how long each member may take to replicate
	// dbms.cluster.statusCheck's entry.
	StatusCheckTimeout time.Duration
	// VolumeStats is auto, on or off: whether the store usage check reads
	// the kubelets' volume stats, and whether a refused node proxy makes it
	// UNKNOWN (on) or SKIP (auto).
	VolumeStats string
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Conn, when set, is an open Neo4j connection to the cluster to read
	// through (watch keeps one per cluster); otherwise one is opened and
	// closed.
	Conn *neo4j.Client
	// Unreachable, when set and Conn is nil, says why Neo4j is not to be
	// connected to now (watch's circuit breaker is open, its last connect
	// failed): the Neo4j checks are UNKNOWN with that reason, and no new
	// connection is tried.
	Unreachable string
	// BackupSecretsDir is where the Secrets spec.backups names are mounted
	// for the backups check, as backup list's --secrets-dir (default
	// ops.DefaultSecretsDir, then the environment).
	BackupSecretsDir string
}

// Input reads both planes of one cluster into a healthcheck.Input,
// through the clients and the Neo4j connection plan uses. What cannot be
// read is recorded as such: its checks are then UNKNOWN, never PASS.
func Input(ctx context.Context, r *pipeline.Runner, t *pipeline.Target, o Options) healthcheck.Input {
	in := healthcheck.Input{File: t.File, Expected: ExpectedOf(t)}
	var kubeDone = make(chan struct{})
	go func() {
		defer close(kubeDone)
		k, err := r.Kube.ObserveHealth(ctx, t.Inventory)
		if err != nil {
			in.KubeErr = err.Error()
		}
		in.Kube = k
		if err == nil {
			observeVolumes(ctx, r, t, o, &in)
		}
		if name := in.Expected.TLSSecret; name != "" {
			pem, err := r.Kube.ReadSecretKey(ctx, t.Namespace, name, "tls.crt")
			if err == nil {
				in.Certificates, err = healthcheck.ParseCertificates(name, pem)
			}
			if err != nil {
				in.CertificateErr = err.Error()
			}
		}
	}()
	backupsDone := make(chan struct{})
	go func() {
		defer close(backupsDone)
		in.Backups = Backups(ctx, t.Cluster, o.BackupSecretsDir)
	}()
	verifyDone := make(chan struct{})
	go func() {
		defer close(verifyDone)
		in.Verifications = Verifications(ctx, t.Cluster, o.BackupSecretsDir)
	}()
	drillDone := make(chan struct{})
	go func() {
		defer close(drillDone)
		in.Drill = Drills(ctx, t.Cluster, o.BackupSecretsDir)
	}()
	observeNeo4j(ctx, r, t, o, &in)
	<-kubeDone
	<-backupsDone
	<-verifyDone
	<-drillDone
	if o.Now == nil {
		o.Now = time.Now
	}
	in.Now = o.Now()
	return in
}

func observeNeo4j(ctx context.Context, r *pipeline.Runner, t *pipeline.Target, o Options, in *healthcheck.Input) {
	if r.SkipNeo4j {
		in.Neo4jSkipped = true
		return
	}
	timeout := r.Neo4j.ObserveTimeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout+o.Recheck)
	defer cancel()
	c := o.Conn
	if c == nil && o.Unreachable != "" {
		in.Neo4j.Reason = o.Unreachable
		return
	}
	if c == nil {
		conn, closeFn, err := r.Neo4j.Connect(ctx, r.Kube, t)
		if err != nil {
			in.Neo4j.Reason = err.Error()
			return
		}
		defer closeFn()
		c = conn
	}
	var statusErr error
	in.Neo4j, in.StatusCheck, statusErr = c.ObserveHealth(ctx, o.StatusCheckTimeout)
	if statusErr != nil {
		in.StatusCheckErr = statusErr.Error()
	}
	RecheckSplitBrain(ctx, in, o.Recheck, c.Databases)
}

// RecheckSplitBrain reads SHOW DATABASES again after wait when the first
// read showed two writers for a database: one read cannot tell a leader
// change in flight from a split-brain, two reads apart can.
func RecheckSplitBrain(ctx context.Context, in *healthcheck.Input, wait time.Duration, read func(context.Context) ([]state.DatabaseAllocation, error)) {
	if !in.Neo4j.Reachable || len(healthcheck.SplitBrainSuspects(in.Neo4j.Databases)) == 0 {
		return
	}
	in.Recheck = &healthcheck.Recheck{After: wait}
	select {
	case <-time.After(wait):
	case <-ctx.Done():
		in.Recheck.Err = ctx.Err().Error()
		return
	}
	dbs, err := read(ctx)
	if err != nil {
		in.Recheck.Err = err.Error()
		return
	}
	in.Recheck.Databases = dbs
}

// observeVolumes reads each node's kubelet volume stats for the claims of
// the cluster's Pods.
func observeVolumes(ctx context.Context, r *pipeline.Runner, t *pipeline.Target, o Options, in *healthcheck.Input) {
	if o.VolumeStats == "off" {
		in.VolumesSkip = "not read (--volume-stats=off)"
		return
	}
	seen := map[string]bool{}
	for _, p := range in.Kube.Pods {
		if p.Node == "" || seen[p.Node] {
			continue
		}
		seen[p.Node] = true
		data, err := r.Kube.NodeStatsSummary(ctx, p.Node)
		var vols []state.VolumeUsage
		if err == nil {
			vols, err = healthcheck.ParseVolumeStats(data, t.Namespace)
		}
		if err != nil {
			// A refusal by RBAC or by the node proxy (a kubelet address the
			// API server will not proxy to) is a property of the cluster,
			// not a passing fault: auto skips the check and says why.
			if o.VolumeStats == "auto" && (apierrors.IsForbidden(err) || apierrors.IsBadRequest(err) || apierrors.IsNotFound(err) || apierrors.IsServiceUnavailable(err)) {
				in.VolumesSkip = fmt.Sprintf("the node proxy refused the kubelet's volume stats (%v); --volume-stats=on makes this UNKNOWN", err)
			} else {
				in.VolumesErr = err.Error()
			}
			in.Volumes = nil
			return
		}
		in.Volumes = append(in.Volumes, vols...)
	}
}

// ExpectedOf is what the cluster file asks for, in the terms the checks use.
func ExpectedOf(t *pipeline.Target) healthcheck.Expected {
	c := t.Cluster
	e := healthcheck.Expected{
		Cluster: t.Name(), Namespace: t.Namespace, Edition: string(c.Spec.Edition),
		TLSSecret: manifests.TLSSecretName(c),
	}
	if e.Edition == "" {
		e.Edition = string(clusterfile.EditionEnterprise)
	}
	for _, o := range t.Objects {
		if o.GetKind() == "PodDisruptionBudget" {
			e.PDB = o.GetName()
		}
	}
	heap := neo4jBytes(c.Spec.Config["server.memory.heap.max_size"])
	pageCache := neo4jBytes(c.Spec.Config["server.memory.pagecache.size"])
	for _, p := range manifests.Pools(c) {
		e.StatefulSets = append(e.StatefulSets, p.StatefulSet)
		for i := 0; i < int(p.Servers); i++ {
			e.Servers = append(e.Servers, healthcheck.ExpectedServer{
				Pod: manifests.PodName(c, p.Name, i), StatefulSet: p.StatefulSet,
				Host: manifests.PodDNSName(c, t.Namespace, p.Name, i),
			})
		}
		var limit int64
		if l := p.Resources.Neo4j.Limits.Memory; l != "" {
			if f, err := clusterfile.ParseAmount(l, false); err == nil {
				limit = int64(f)
			}
		}
		e.Memory = append(e.Memory, healthcheck.MemoryBudget{StatefulSet: p.StatefulSet, Heap: heap, PageCache: pageCache, Limit: limit})
	}
	for _, db := range c.Spec.Databases {
		e.Databases = append(e.Databases, healthcheck.ExpectedDatabase{Name: db.Name, Primaries: db.Topology.Primaries, Secondaries: db.Topology.Secondaries})
	}
	return e
}

// neo4jBytes reads a neo4j.conf byte size ("384m", "4g"); 0 when unset or
// unreadable (the memory check then says it cannot compare).
func neo4jBytes(s string) int64 {
	if s == "" {
		return 0
	}
	f, err := clusterfile.ParseAmount(s, true)
	if err != nil {
		return 0
	}
	return int64(f)
}
