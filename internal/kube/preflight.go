package kube

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/neo4jctl/neo4jctl/internal/state"
)

// builtinGroups are the API groups every Kubernetes server serves: their
// kinds need no CRD check.
var builtinGroups = map[string]bool{
	"": true, "apps": true, "batch": true, "policy": true, "autoscaling": true,
	"rbac.authorization.k8s.io": true, "networking.k8s.io": true,
	"coordination.k8s.io": true, "storage.k8s.io": true, "discovery.k8s.io": true,
}

// crdFixes says how to get the custom resource kinds neo4jctl renders, by
// group.
var crdFixes = map[string]string{
	"cert-manager.io":       "install cert-manager (https://cert-manager.io/docs/installation/), or reference your own kubernetes.io/tls Secret with spec.tls.secretName",
	"monitoring.coreos.com": "install the Prometheus Operator's CRDs, or turn the ServiceMonitor/PrometheusRule off in spec.monitoring",
}

// References are what rendered objects need from the cluster without
// rendering it themselves.
type References struct {
	// Secrets maps a Secret name to the keys read from it (empty: the
	// Secret itself is needed, any keys).
	Secrets map[string]map[string]bool
	// ConfigMaps maps a ConfigMap name to the keys read from it.
	ConfigMaps map[string]map[string]bool
	// StorageClasses are the classes claim templates name; DefaultClass
	// is set when a claim template names none.
	StorageClasses map[string]bool
	DefaultClass   bool
	// Kinds are the custom resource kinds rendered (built-in groups left
	// out: every server serves them).
	Kinds []schema.GroupVersionKind
	// Issuers are the cert-manager issuers Certificates reference, as
	// "Kind/name".
	Issuers map[string]bool
}

// ReferencesOf collects what the objects reference: Secrets and
// ConfigMaps named by Pod templates (volumes, projected volumes, env,
// envFrom, image pull secrets) and not optional, StorageClasses of claim
// templates, custom resource kinds and cert-manager issuers. Secrets and
// ConfigMaps that the objects create themselves — rendered, or the Secret
// a rendered Certificate asks cert-manager for — are left out.
func ReferencesOf(objs []*unstructured.Unstructured) References {
	r := References{Secrets: map[string]map[string]bool{}, ConfigMaps: map[string]map[string]bool{}, StorageClasses: map[string]bool{}, Issuers: map[string]bool{}}
	made := map[string]bool{}
	seenKind := map[schema.GroupVersionKind]bool{}
	for _, u := range objs {
		gvk := u.GroupVersionKind()
		switch gvk.GroupKind() {
		case schema.GroupKind{Kind: "Secret"}, schema.GroupKind{Kind: "ConfigMap"}:
			made[gvk.Kind+"/"+u.GetName()] = true
		case schema.GroupKind{Group: "cert-manager.io", Kind: "Certificate"}:
			if s, _, _ := unstructured.NestedString(u.Object, "spec", "secretName"); s != "" {
				made["Secret/"+s] = true
			}
			name, _, _ := unstructured.NestedString(u.Object, "spec", "issuerRef", "name")
			kind, _, _ := unstructured.NestedString(u.Object, "spec", "issuerRef", "kind")
			group, _, _ := unstructured.NestedString(u.Object, "spec", "issuerRef", "group")
			if kind == "" {
				kind = "Issuer"
			}
			// An issuer of another group (an external issuer) has its own
			// CRD: not checked.
			if name != "" && (group == "" || group == "cert-manager.io") {
				r.Issuers[kind+"/"+name] = true
			}
		}
		if !builtinGroups[gvk.Group] && !seenKind[gvk] {
			seenKind[gvk] = true
			r.Kinds = append(r.Kinds, gvk)
		}
		if spec, ok := podSpecOf(u); ok {
			r.addPodSpec(spec)
		}
		if templates, found, _ := unstructured.NestedSlice(u.Object, "spec", "volumeClaimTemplates"); found {
			for _, t := range templates {
				m, _ := t.(map[string]any)
				if sc, found, _ := unstructured.NestedString(m, "spec", "storageClassName"); found && sc != "" {
					r.StorageClasses[sc] = true
				} else if !found {
					r.DefaultClass = true
				}
			}
		}
	}
	for name := range r.Secrets {
		if made["Secret/"+name] {
			delete(r.Secrets, name)
		}
	}
	for name := range r.ConfigMaps {
		if made["ConfigMap/"+name] {
			delete(r.ConfigMaps, name)
		}
	}
	return r
}

// PreflightOptions tune Preflight.
type PreflightOptions struct {
	// NamespacedOnly makes only the checks a Role in the cluster's
	// namespace allows (Secrets and ConfigMaps by name; CRDs through
	// discovery, which every identity may read): watch runs with such a
	// Role, and the cluster-scoped prerequisites were checked by the plan
	// that first applied the cluster.
	NamespacedOnly bool
}

// Preflight checks, read-only, that the cluster has what the rendered
// objects of one cluster need before any of them is written: the
// namespace, every referenced Secret (and key) and ConfigMap, the
// StorageClasses of the claim templates (or a default class), the custom
// resource kinds (cert-manager, Prometheus Operator) and the cert-manager
// issuers. What is missing is reported with the fix; a check the
// credentials may not make is reported as unchecked. Values of Secrets are
// read only to see their keys and never leave this function.
func (c *Client) Preflight(ctx context.Context, objs []*unstructured.Unstructured, namespace string, opts PreflightOptions) state.Preflight {
	refs := ReferencesOf(objs)
	var (
		mu sync.Mutex
		pf state.Preflight
		wg sync.WaitGroup
	)
	missing := func(addr, problem, fix string) {
		mu.Lock()
		defer mu.Unlock()
		pf.Missing = append(pf.Missing, state.Prerequisite{Address: addr, Problem: problem, Fix: fix})
	}
	unchecked := func(what string, err error) {
		mu.Lock()
		defer mu.Unlock()
		pf.Unchecked = append(pf.Unchecked, fmt.Sprintf("%s: not checked (%v)", what, err))
	}
	// get reads one object; found=false with a nil error is NotFound. Other
	// failures are reported as unchecked and found is true: plan fails
	// closed on a missing prerequisite, not on an unreadable one.
	get := func(what string, fn func(ctx context.Context) error) (found bool) {
		err := c.retry(ctx, "preflight "+what, fn)
		switch {
		case err == nil:
			return true
		case apierrors.IsNotFound(err):
			return false
		default:
			unchecked(what, err)
			return true
		}
	}
	go1 := func(f func()) {
		wg.Add(1)
		go func() { defer wg.Done(); f() }()
	}

	nsAddr := Address(schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}, "", namespace)
	nsExists := true
	if !opts.NamespacedOnly && !get("Namespace "+namespace, func(ctx context.Context) error {
		_, err := c.core.Namespaces().Get(ctx, namespace, metav1.GetOptions{})
		return err
	}) {
		// No --create-namespace: the auth Secret is required
		// (spec.auth.secretRef) and lives in this namespace, so a missing
		// namespace always needs the user's hand before apply can work.
		nsExists = false
		missing(nsAddr, fmt.Sprintf("namespace %s does not exist", namespace),
			fmt.Sprintf("create it with the Secrets the cluster file references: kubectl create namespace %s", namespace))
	}
	checkKeyed := func(kind string, m map[string]map[string]bool, read func(ctx context.Context, name string) (map[string]bool, error)) {
		for name, keys := range m {
			addr := Address(schema.GroupVersionKind{Version: "v1", Kind: kind}, namespace, name)
			go1(func() {
				if !nsExists {
					missing(addr, fmt.Sprintf("%s %s/%s does not exist (nor does its namespace)", kind, namespace, name), fixFor(kind, namespace, name, keys))
					return
				}
				var have map[string]bool
				if !get(fmt.Sprintf("%s %s/%s", kind, namespace, name), func(ctx context.Context) error {
					var err error
					have, err = read(ctx, name)
					return err
				}) {
					missing(addr, fmt.Sprintf("%s %s/%s does not exist", kind, namespace, name), fixFor(kind, namespace, name, keys))
					return
				}
				if have == nil { // unchecked
					return
				}
				var absent []string
				for k := range keys {
					if !have[k] {
						absent = append(absent, k)
					}
				}
				if len(absent) > 0 {
					sort.Strings(absent)
					present := make([]string, 0, len(have))
					for k := range have {
						present = append(present, k)
					}
					sort.Strings(present)
					missing(addr, fmt.Sprintf("%s %s/%s has no key %s (keys: %s)", kind, namespace, name, quoteAll(absent), strings.Join(present, ", ")),
						fmt.Sprintf("add the key to the %s, or correct the key the cluster file names", kind))
				}
			})
		}
	}
	checkKeyed("Secret", refs.Secrets, func(ctx context.Context, name string) (map[string]bool, error) {
		s, err := c.core.Secrets(namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		have := map[string]bool{}
		for k := range s.Data {
			have[k] = true
		}
		for k := range s.StringData {
			have[k] = true
		}
		return have, nil
	})
	checkKeyed("ConfigMap", refs.ConfigMaps, func(ctx context.Context, name string) (map[string]bool, error) {
		cm, err := c.core.ConfigMaps(namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		have := map[string]bool{}
		for k := range cm.Data {
			have[k] = true
		}
		for k := range cm.BinaryData {
			have[k] = true
		}
		return have, nil
	})

	scGVR := schema.GroupVersionResource{Group: "storage.k8s.io", Version: "v1", Resource: "storageclasses"}
	if opts.NamespacedOnly {
		refs.StorageClasses, refs.DefaultClass, refs.Issuers = nil, false, nil
	}
	for name := range refs.StorageClasses {
		go1(func() {
			if !get("StorageClass "+name, func(ctx context.Context) error {
				_, err := c.memoRead(ctx, "storageclass/"+name, func(ctx context.Context) (any, error) {
					return c.dyn.Resource(scGVR).Get(ctx, name, metav1.GetOptions{})
				})
				return err
			}) {
				missing(Address(schema.GroupVersionKind{Group: "storage.k8s.io", Version: "v1", Kind: "StorageClass"}, "", name),
					fmt.Sprintf("StorageClass %s does not exist, so the data claims would stay Pending", name),
					"name an existing class in spec.storage.*.storageClassName (kubectl get storageclass), or drop the field to use the default class")
			}
		})
	}
	if refs.DefaultClass {
		go1(func() {
			var list *unstructured.UnstructuredList
			if !get("the default StorageClass", func(ctx context.Context) error {
				v, err := c.memoRead(ctx, "storageclasses", func(ctx context.Context) (any, error) {
					return c.dyn.Resource(scGVR).List(ctx, metav1.ListOptions{})
				})
				if err == nil {
					list = v.(*unstructured.UnstructuredList) // only read below
				}
				return err
			}) || list == nil {
				return
			}
			for _, sc := range list.Items {
				if sc.GetAnnotations()["storageclass.kubernetes.io/is-default-class"] == "true" {
					return
				}
			}
			missing("k8s:storage.k8s.io/StorageClass/(default)",
				"no StorageClass is marked as the default, and a claim template names none, so the claims would stay Pending",
				"name a class in spec.storage.*.storageClassName (kubectl get storageclass)")
		})
	}

	served := map[string]bool{}
	var servedMu sync.Mutex
	for _, gvk := range refs.Kinds {
		go1(func() {
			ok := c.servesKind(ctx, gvk, unchecked)
			servedMu.Lock()
			served[gvk.Group] = served[gvk.Group] || ok
			servedMu.Unlock()
			if !ok {
				fix := crdFixes[gvk.Group]
				if fix == "" {
					fix = "install the CRD that defines it"
				}
				missing(fmt.Sprintf("k8s:%s/%s", gvk.Group, gvk.Kind),
					fmt.Sprintf("the API server does not serve %s %s (its CRD is not installed)", gvk.GroupVersion(), gvk.Kind), fix)
			}
		})
	}
	wg.Wait()

	if served["cert-manager.io"] {
		for ref := range refs.Issuers {
			kind, name, _ := strings.Cut(ref, "/")
			res, ns := "issuers", namespace
			if kind == "ClusterIssuer" {
				res, ns = "clusterissuers", ""
			}
			go1(func() {
				gvr := schema.GroupVersionResource{Group: "cert-manager.io", Version: "v1", Resource: res}
				if !get(kind+" "+name, func(ctx context.Context) error {
					if ns == "" {
						_, err := c.memoRead(ctx, "clusterissuer/"+name, func(ctx context.Context) (any, error) {
							return c.dyn.Resource(gvr).Get(ctx, name, metav1.GetOptions{})
						})
						return err
					}
					if !nsExists {
						return apierrors.NewNotFound(gvr.GroupResource(), name)
					}
					_, err := c.dyn.Resource(gvr).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
					return err
				}) {
					missing(Address(schema.GroupVersionKind{Group: "cert-manager.io", Version: "v1", Kind: kind}, ns, name),
						fmt.Sprintf("cert-manager %s %s does not exist, so the Certificate would never be issued and the Pods would not start", kind, name),
						"create the issuer, or correct spec.tls.certManager.issuerRef")
				}
			})
		}
		wg.Wait()
	}
	sort.Slice(pf.Missing, func(i, j int) bool { return pf.Missing[i].Address < pf.Missing[j].Address })
	sort.Strings(pf.Unchecked)
	return pf
}

// servesKind asks discovery for the kind's group version alone (one small
// request, not the whole discovery document).
func (c *Client) servesKind(ctx context.Context, gvk schema.GroupVersionKind, unchecked func(string, error)) bool {
	var list *metav1.APIResourceList
	err := c.retry(ctx, "discover "+gvk.GroupVersion().String(), func(context.Context) error {
		var err error
		list, err = c.discovery.ServerResourcesForGroupVersion(gvk.GroupVersion().String())
		return err
	})
	switch {
	case apierrors.IsNotFound(err):
		return false
	case err != nil:
		unchecked(gvk.String(), err)
		return true
	}
	for _, r := range list.APIResources {
		if r.Kind == gvk.Kind {
			return true
		}
	}
	return false
}

func fixFor(kind, namespace, name string, keys map[string]bool) string {
	if kind == "ConfigMap" {
		return fmt.Sprintf("create ConfigMap %s in namespace %s", name, namespace)
	}
	if len(keys) == 0 {
		return fmt.Sprintf("create Secret %s in namespace %s (kubectl -n %s create secret ...)", name, namespace, namespace)
	}
	ks := make([]string, 0, len(keys))
	for k := range keys {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	if len(ks) == 2 && ks[0] == corev1.TLSCertKey && ks[1] == corev1.TLSPrivateKeyKey {
		return fmt.Sprintf("create it: kubectl -n %s create secret tls %s --cert=FILE --key=FILE", namespace, name)
	}
	args := make([]string, 0, len(ks))
	for _, k := range ks {
		args = append(args, fmt.Sprintf("--from-literal=%s=...", k))
	}
	return fmt.Sprintf("create it: kubectl -n %s create secret generic %s %s", namespace, name, strings.Join(args, " "))
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}
