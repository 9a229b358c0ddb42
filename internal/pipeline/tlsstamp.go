package pipeline

import (
	"context"
	"fmt"
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

// LiveStatefulSet returns a live StatefulSet of the target's namespace by
// name, nil when it does not exist.
type LiveStatefulSet func(ctx context.Context, name string) (*unstructured.Unstructured, error)

// stampTLS stamps the fingerprint of t's TLS Secret on its rendered
// StatefulSets (manifests.StampTLS), given the live ones: a renewed
// certificate (cert-manager, or a user replacing the Secret) then changes
// the StatefulSet, and plan rolls or reloads the servers. It reads only
// the certificate and CA of the Secret, never its key. A Secret that does
// not exist is no error here: the pre-flight decides whether it must
// (a Secret the file names), or cert-manager has not issued it yet; the
// live stamp is kept. Credentials that may not read it keep it too, with a
// warning. It returns the indices of the objects whose stamp changed.
func (r *Runner) stampTLS(ctx context.Context, t *Target, live LiveStatefulSet) (changed []int, warnings []string, err error) {
	if r.Kube == nil || !manifests.TLSStamped(t.Cluster) {
		return nil, nil, nil
	}
	lives := map[string]manifests.TLSStampLive{}
	var recorded []string
	for _, o := range t.Objects {
		if o.GetKind() != "StatefulSet" || o.GetLabels()[manifests.LabelCluster] != t.Cluster.Metadata.Name {
			continue
		}
		u, err := live(ctx, o.GetName())
		if err != nil {
			return nil, nil, fmt.Errorf("%s: read StatefulSet %s for its TLS certificate stamp: %w", t.Name(), o.GetName(), err)
		}
		var l manifests.TLSStampLive
		if u != nil {
			l = manifests.TLSStampOf(u.Object)
		}
		lives[o.GetName()] = l
		recorded = append(recorded, l.Recorded)
	}
	if len(lives) == 0 {
		return nil, nil, nil
	}
	secret := manifests.TLSSecretName(t.Cluster)
	fp, err := r.tlsFingerprint(ctx, t.Namespace, secret, recorded)
	switch {
	case kube.IsNotFound(err):
		fp = ""
	case kube.IsForbidden(err):
		fp = ""
		warnings = append(warnings, fmt.Sprintf("cannot read Secret %s/%s (%v): a renewed TLS certificate is not noticed, the StatefulSets keep the certificate stamp they have; grant get on it", t.Namespace, secret, err))
	case err != nil:
		return nil, nil, fmt.Errorf("%s: read the TLS certificate's fingerprint: %w", t.Name(), err)
	}
	before := make([]string, len(t.Objects))
	for i, o := range t.Objects {
		if o.GetKind() == "StatefulSet" {
			before[i] = stampOf(o)
		}
	}
	manifests.StampTLS(t.Cluster, t.Objects, fp, func(name string) manifests.TLSStampLive { return lives[name] })
	for i, o := range t.Objects {
		if o.GetKind() == "StatefulSet" && stampOf(o) != before[i] {
			changed = append(changed, i)
		}
	}
	return changed, warnings, nil
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
	data, err := r.Kube.SecretKeys(ctx, ns, name, manifests.TLSFingerprintKeys...)
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

// getStatefulSet reads one live StatefulSet of t's namespace.
func (r *Runner) getStatefulSet(t *Target) LiveStatefulSet {
	return func(ctx context.Context, name string) (*unstructured.Unstructured, error) {
		for _, o := range t.Objects {
			if o.GetKind() != "StatefulSet" || o.GetName() != name {
				continue
			}
			got, errs := r.Kube.LiveObjects(ctx, []*unstructured.Unstructured{o}, t.Namespace)
			for _, err := range errs {
				return nil, err
			}
			if len(got) == 0 {
				return nil, nil
			}
			return got[0], nil
		}
		return nil, nil
	}
}

// RestampTLS brings the certificate stamp of t's rendered StatefulSets up
// to date with the TLS Secret and the live StatefulSets live returns
// (watch passes its informer's, which cost no request): a renewed
// certificate, or a stamp another neo4jctl recorded meanwhile. It returns
// the indices in t.Objects whose stamp changed (to observe them again)
// and warnings for the plan.
func (r *Runner) RestampTLS(ctx context.Context, t *Target, live func(name string) *unstructured.Unstructured) ([]int, []string, error) {
	return r.stampTLS(ctx, t, func(_ context.Context, name string) (*unstructured.Unstructured, error) {
		return live(name), nil
	})
}
