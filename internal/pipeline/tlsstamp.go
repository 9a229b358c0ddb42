package pipeline

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/manifests"
)

// tlsFingerprintTTL is how long a Kubernetes client reuses the certificate
// fingerprint it read from a TLS Secret while it agrees with what the live
// StatefulSets recorded: a long-running watch notices a renewal within
// this long without a request per cycle. A recorded fingerprint that
// differs from the cached one (another neo4jctl stamped a renewal) is
// never answered from the cache: a stale read must not take a stamp back,
// which on 5.26 would restart every server again.
const tlsFingerprintTTL = time.Minute

type tlsKey struct {
	client          *kube.Client
	namespace, name string
}

type tlsRead struct {
	at  time.Time
	fp  string
	err error
}

// tlsReads caches fingerprints per client (watch keeps one client for its
// life; a command's runs share theirs).
var tlsReads = struct {
	sync.Mutex
	m map[tlsKey]tlsRead
}{m: map[tlsKey]tlsRead{}}

// LiveStatefulSets returns the live StatefulSets of the target's namespace
// by name (a name missing from the map does not exist), and the error of
// each one that could not be read.
type LiveStatefulSets func(ctx context.Context, names []string) (map[string]*unstructured.Unstructured, map[string]error)

// tlsStampInputs is what stamping t's StatefulSets reads (readTLSStamp):
// the live StatefulSets' stamps and the Secret's fingerprint.
type tlsStampInputs struct {
	names    []string // the cluster's StatefulSets when read; none: nothing to stamp
	lives    map[string]manifests.TLSStampLive
	fp       string
	warnings []string
}

// clusterStatefulSets names t's rendered StatefulSets of its cluster, in
// t.Objects' order.
func clusterStatefulSets(t *Target) []string {
	var names []string
	for _, o := range t.Objects {
		if o.GetKind() == "StatefulSet" && o.GetLabels()[manifests.LabelCluster] == t.Cluster.Metadata.Name {
			names = append(names, o.GetName())
		}
	}
	return names
}

// stampTLS stamps the fingerprint of t's TLS Secret on its rendered
// StatefulSets (manifests.StampTLS), given the live ones: a renewed
// certificate (cert-manager, or a user replacing the Secret) then changes
// the StatefulSet, and plan rolls or reloads the servers. It reads only
// the certificate and CA of the Secret, never its key. A Secret that does
// not exist is no error here: the pre-flight decides whether it must
// (a Secret the file names), or cert-manager has not issued it yet; the
// live stamp is kept. Credentials that may not read it keep it too, with a
// warning. It returns the indices of the objects whose stamp changed.
func (r *Runner) stampTLS(ctx context.Context, t *Target, live LiveStatefulSets) (changed []int, warnings []string, err error) {
	in, err := r.readTLSStamp(ctx, t, live)
	if err != nil {
		return nil, nil, err
	}
	return in.stamp(t), in.warnings, nil
}

// readTLSStamp reads what stampTLS stamps from: the live StatefulSets and
// the fingerprint of the Secret's certificate. When the client's cache
// cannot answer for the Secret whatever the StatefulSets record (no
// fingerprint read in the last tlsFingerprintTTL), the Secret is read
// alongside the StatefulSets instead of after them: the same requests,
// one round trip less. Otherwise the recorded stamps decide, as
// tlsFingerprint says, whether the cache answers.
func (r *Runner) readTLSStamp(ctx context.Context, t *Target, live LiveStatefulSets) (tlsStampInputs, error) {
	if r.Kube == nil || !manifests.TLSStamped(t.Cluster) {
		return tlsStampInputs{}, nil
	}
	names := clusterStatefulSets(t)
	if len(names) == 0 {
		return tlsStampInputs{}, nil
	}
	secret := manifests.TLSSecretName(t.Cluster)
	key := tlsKey{r.Kube, t.Namespace, secret}
	var early chan tlsRead
	if !tlsCached(key) {
		early = make(chan tlsRead, 1)
		go func() {
			fp, err := r.readTLSFingerprint(ctx, key)
			early <- tlsRead{fp: fp, err: err}
		}()
	}
	got, errs := live(ctx, names)
	in := tlsStampInputs{names: names, lives: map[string]manifests.TLSStampLive{}}
	var recorded []string
	for _, name := range names {
		if err := errs[name]; err != nil {
			if early != nil {
				<-early
			}
			return tlsStampInputs{}, fmt.Errorf("%s: read StatefulSet %s for its TLS certificate stamp: %w", t.Name(), name, err)
		}
		var l manifests.TLSStampLive
		if u := got[name]; u != nil {
			l = manifests.TLSStampOf(u.Object)
		}
		in.lives[name] = l
		recorded = append(recorded, l.Recorded)
	}
	var fp string
	var err error
	if early != nil {
		res := <-early
		fp, err = res.fp, res.err
	} else {
		fp, err = r.tlsFingerprint(ctx, t.Namespace, secret, recorded)
	}
	switch {
	case kube.IsNotFound(err):
		fp = ""
	case kube.IsForbidden(err):
		fp = ""
		in.warnings = append(in.warnings, fmt.Sprintf("cannot read Secret %s/%s (%v): a renewed TLS certificate is not noticed, the StatefulSets keep the certificate stamp they have; grant get on it", t.Namespace, secret, err))
	case err != nil:
		return tlsStampInputs{}, fmt.Errorf("%s: read the TLS certificate's fingerprint: %w", t.Name(), err)
	}
	in.fp = fp
	return in, nil
}

// sameStatefulSets reports whether t renders the StatefulSets in was read
// for (RenderForCluster reads before it renders for the API server).
func (in tlsStampInputs) sameStatefulSets(t *Target) bool {
	return in.names == nil || slices.Equal(in.names, clusterStatefulSets(t))
}

// stamp stamps in's fingerprint on t's StatefulSets (manifests.StampTLS)
// and returns the indices of the objects whose stamp changed.
func (in tlsStampInputs) stamp(t *Target) (changed []int) {
	if len(in.names) == 0 {
		return nil
	}
	before := make([]string, len(t.Objects))
	for i, o := range t.Objects {
		if o.GetKind() == "StatefulSet" {
			before[i] = stampOf(o)
		}
	}
	manifests.StampTLS(t.Cluster, t.Objects, in.fp, func(name string) manifests.TLSStampLive { return in.lives[name] })
	for i, o := range t.Objects {
		if o.GetKind() == "StatefulSet" && stampOf(o) != before[i] {
			changed = append(changed, i)
		}
	}
	return changed
}

// stampOf is an object's stamp in both places, to see whether it changed.
func stampOf(o *unstructured.Unstructured) string {
	l := manifests.TLSStampOf(o.Object)
	return l.Recorded + "|" + l.Template
}

// tlsFingerprint is the fingerprint of the Secret's certificate and CA,
// from the client's cache when it is fresh and agrees with every recorded
// fingerprint (see tlsFingerprintTTL). Forbidden is an answer and cached
// as such; NotFound is not cached: a Secret cert-manager has not issued
// yet appears once the first apply created its Certificate, and that
// apply's verifying plan must see it (apply records its baseline); other
// errors are not cached either.
func (r *Runner) tlsFingerprint(ctx context.Context, ns, name string, recorded []string) (string, error) {
	key := tlsKey{r.Kube, ns, name}
	tlsReads.Lock()
	c, ok := tlsReads.m[key]
	tlsReads.Unlock()
	if ok && time.Since(c.at) < tlsFingerprintTTL {
		agrees := true
		for _, rec := range recorded {
			if rec != "" && rec != c.fp {
				agrees = false
			}
		}
		if agrees {
			return c.fp, c.err
		}
	}
	return r.readTLSFingerprint(ctx, key)
}

// tlsCached reports whether the cache holds a fingerprint of key read in
// the last tlsFingerprintTTL (which tlsFingerprint may answer from).
func tlsCached(key tlsKey) bool {
	tlsReads.Lock()
	c, ok := tlsReads.m[key]
	tlsReads.Unlock()
	return ok && time.Since(c.at) < tlsFingerprintTTL
}

// readTLSFingerprint reads the Secret's certificate and CA and caches the
// answer as tlsFingerprint says.
func (r *Runner) readTLSFingerprint(ctx context.Context, key tlsKey) (string, error) {
	data, err := r.Kube.SecretKeys(ctx, key.namespace, key.name, manifests.TLSFingerprintKeys...)
	fp := ""
	if err == nil {
		fp = manifests.TLSFingerprint(data)
	}
	if err == nil || kube.IsForbidden(err) {
		tlsReads.Lock()
		tlsReads.m[key] = tlsRead{at: time.Now(), fp: fp, err: err}
		tlsReads.Unlock()
	}
	return fp, err
}

// getStatefulSets reads live StatefulSets of t's namespace, all at once
// (kube.Client.LiveObjects reads them in parallel).
func (r *Runner) getStatefulSets(t *Target) LiveStatefulSets {
	return func(ctx context.Context, names []string) (map[string]*unstructured.Unstructured, map[string]error) {
		var objs []*unstructured.Unstructured
		for _, name := range names {
			for _, o := range t.Objects {
				if o.GetKind() == "StatefulSet" && o.GetName() == name {
					objs = append(objs, o)
					break
				}
			}
		}
		got, errs := r.Kube.LiveObjects(ctx, objs, t.Namespace)
		// got holds the ones that exist, errs the ones that failed, keyed
		// "StatefulSet/name".
		live, failed := map[string]*unstructured.Unstructured{}, map[string]error{}
		for _, u := range got {
			live[u.GetName()] = u
		}
		for _, o := range objs {
			if err := errs["StatefulSet/"+o.GetName()]; err != nil {
				failed[o.GetName()] = err
			}
		}
		return live, failed
	}
}

// RestampTLS brings the certificate stamp of t's rendered StatefulSets up
// to date with the TLS Secret and the live StatefulSets live returns
// (watch passes its informer's, which cost no request): a renewed
// certificate, or a stamp another neo4jctl recorded meanwhile. It returns
// the indices in t.Objects whose stamp changed (to observe them again)
// and warnings for the plan.
func (r *Runner) RestampTLS(ctx context.Context, t *Target, live func(name string) *unstructured.Unstructured) ([]int, []string, error) {
	return r.stampTLS(ctx, t, func(_ context.Context, names []string) (map[string]*unstructured.Unstructured, map[string]error) {
		got := map[string]*unstructured.Unstructured{}
		for _, name := range names {
			if u := live(name); u != nil {
				got[name] = u
			}
		}
		return got, nil
	})
}
