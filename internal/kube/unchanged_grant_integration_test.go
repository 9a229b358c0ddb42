package kube_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/neo4jctl/neo4jctl/internal/kube"
)

// requestLog counts a Client's requests by what they are.
type requestLog struct {
	mu               sync.Mutex
	dryRuns, reviews int
}

func (l *requestLog) counts() (dryRuns, reviews int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dryRuns, l.reviews
}

// roleClient is a Client for a ServiceAccount bound to a Role of the given
// rules in ns (its kubeconfig is the one `kubectl create token` users get),
// whose dry runs and rules reviews are counted.
func roleClient(t *testing.T, ctx context.Context, cs kubernetes.Interface, ns, name string, rules []rbacv1.PolicyRule) (*kube.Client, *requestLog) {
	t.Helper()
	env := sharedEnvOrSkip(t)
	if _, err := cs.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Rules: rules}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	rb := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: name},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: name, Namespace: ns}},
	}
	if _, err := cs.RbacV1().RoleBindings(ns).Create(ctx, rb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	path, err := env.ServiceAccountKubeconfig(ctx, ns, name)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		t.Fatal(err)
	}
	log := &requestLog{}
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			log.mu.Lock()
			switch {
			case r.URL.Query().Get("dryRun") == "All":
				log.dryRuns++
			case strings.HasSuffix(r.URL.Path, "/selfsubjectrulesreviews"):
				log.reviews++
			}
			log.mu.Unlock()
			return rt.RoundTrip(r)
		})
	})
	c, err := kube.NewForConfig(cfg, kube.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c, log
}

var readRules = rbacv1.PolicyRule{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"get", "list", "watch"}}

// TestObserveSkipsOnlyUnderCredentialsThatMayDryRun: objects applied by
// another process and untouched since (each one provably unchanged) are
// skipped only when the API server confirms the credentials could have
// dry-run them. Read-only credentials get the Forbidden of a real dry run,
// as they did before any skip existed — the error that turns plan and
// drift to the structural comparison — and so do credentials that may
// patch some of the cluster's kinds but not all. Credentials that may
// patch everything skip every dry run, for one rules review.
func TestObserveSkipsOnlyUnderCredentialsThatMayDryRun(t *testing.T) {
	applier, cs, ns := setup(t)
	ctx := testContext(t)
	inv := kube.InventoryRef{Namespace: ns, Cluster: "prod"}
	// Shapes the skip proves unchanged (TestObserveProvesUnchangedAcrossClients).
	desired := objs(t, ns, renderProd(`"500m"`, portsInOrder)...)
	applyAll(t, ctx, applier, inv, desired)

	ro, roLog := roleClient(t, ctx, cs, ns, "read-only", []rbacv1.PolicyRule{readRules})
	if _, err := ro.Observe(ctx, desired, inv); !kube.IsForbidden(err) {
		t.Errorf("Observe with get/list/watch only, of a converged cluster: got %v, want the Forbidden of a dry run (plan then falls back to structural)", err)
	}
	if d, r := roLog.counts(); d == 0 || r != 1 {
		t.Errorf("read-only: %d dry runs and %d rules reviews, want at least one dry run (refused) and one review", d, r)
	}
	if k, err := ro.ObserveStructural(ctx, desired, inv); err != nil || k.Mode != kube.ModeStructural {
		t.Errorf("ObserveStructural with get/list/watch only: mode %q, %v", k.Mode, err)
	}

	// May patch the ConfigMap and the Service, not the StatefulSet.
	partial, _ := roleClient(t, ctx, cs, ns, "partial", []rbacv1.PolicyRule{readRules,
		{APIGroups: []string{""}, Resources: []string{"configmaps", "services"}, Verbs: []string{"patch"}}})
	if _, err := partial.Observe(ctx, desired, inv); !kube.IsForbidden(err) {
		t.Errorf("Observe with patch on ConfigMaps and Services only: got %v, want the StatefulSet's Forbidden", err)
	}

	// May patch these objects by name only: still proven.
	var names []string
	for _, u := range desired {
		names = append(names, u.GetName())
	}
	writer, wLog := roleClient(t, ctx, cs, ns, "writer", []rbacv1.PolicyRule{readRules,
		{APIGroups: []string{"", "apps", "networking.k8s.io", "policy"}, Resources: []string{"configmaps", "services", "statefulsets", "networkpolicies", "poddisruptionbudgets"},
			Verbs: []string{"patch"}, ResourceNames: names}})
	k, err := writer.Observe(ctx, desired, inv)
	if err != nil {
		t.Fatal(err)
	}
	if k.Mode != kube.ModeDryRun {
		t.Errorf("mode %q, want dry-run", k.Mode)
	}
	if d, r := wLog.counts(); d != 0 || r != 1 {
		t.Errorf("credentials that may patch every object: %d dry runs and %d rules reviews, want none and one", d, r)
	}
	// A second observation by the same client asks nothing again.
	if _, err := writer.Observe(ctx, desired, inv); err != nil {
		t.Fatal(err)
	}
	if d, r := wLog.counts(); d != 0 || r != 1 {
		t.Errorf("second observation: %d dry runs and %d rules reviews in all, want none and one", d, r)
	}
}
