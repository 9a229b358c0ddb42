package cmd

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/manifests"
)

// The in-namespace drill (`dr drill --in-namespace`), what
// spec.backups.drill.schedule's CronJob runs (manifests/drill.go): the
// drill namespace is the standing one `neo4jctl apply` put there, never
// created or deleted by the drill (whose ServiceAccount has no namespace
// verbs); at the end the scratch cluster is deleted object by object,
// claims included, and the standing drill objects stay.

// drillNamespaceKinds are the kinds a drill leaves in its namespace and
// the in-namespace teardown deletes, in deletion order: the workloads
// first (their Pods go with them), the claims once no Pod holds them.
var drillNamespaceKinds = []schema.GroupVersionResource{
	{Group: "apps", Version: "v1", Resource: "statefulsets"},
	{Group: "batch", Version: "v1", Resource: "jobs"},
	{Group: "", Version: "v1", Resource: "pods"},
	{Group: "", Version: "v1", Resource: "services"},
	{Group: "policy", Version: "v1", Resource: "poddisruptionbudgets"},
	{Group: "networking.k8s.io", Version: "v1", Resource: "networkpolicies"},
	{Group: "cert-manager.io", Version: "v1", Resource: "certificates"},
	{Group: "monitoring.coreos.com", Version: "v1", Resource: "servicemonitors"},
	{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "rolebindings"},
	{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "roles"},
	{Group: "", Version: "v1", Resource: "serviceaccounts"},
	{Group: "", Version: "v1", Resource: "configmaps"},
	{Group: "", Version: "v1", Resource: "secrets"},
	{Group: "coordination.k8s.io", Version: "v1", Resource: "leases"},
	{Group: "", Version: "v1", Resource: "persistentvolumeclaims"},
}

// standingDrillObject reports whether an object of the drill namespace
// stays: the standing drill objects and the drill's own Job and Pod
// (they carry the drill labels), and what the namespace itself holds
// (its default ServiceAccount, the kube-root-ca.crt ConfigMap).
func standingDrillObject(resource, name string, labels map[string]string) bool {
	if labels[manifests.LabelComponent] == manifests.DrillComponent {
		return true
	}
	return (resource == "serviceaccounts" && name == "default") || (resource == "configmaps" && name == "kube-root-ca.crt")
}

// useDrillNamespace accepts ns as the drill namespace of cluster only
// when it carries the drill label, or, for a ServiceAccount that may not
// read namespaces, when its standing cluster file ConfigMap carries the
// drill labels of cluster in namespace.
func useDrillNamespace(ctx context.Context, cs kubernetes.Interface, ns string, c *clusterfile.Cluster, namespace string) error {
	cur, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	switch {
	case err == nil && cur.Labels[DrillLabel] == c.Metadata.Name && cur.DeletionTimestamp == nil:
		return nil
	case err == nil:
		return &ExitCodeError{Code: ExitError, Err: fmt.Errorf("namespace %s is not the drill namespace of %s (no label %s=%s): --in-namespace uses the namespace `neo4jctl apply` puts there with spec.backups.drill.schedule; nothing was changed", ns, c.Metadata.Name, DrillLabel, c.Metadata.Name)}
	case apierrors.IsNotFound(err):
		return &ExitCodeError{Code: ExitError, Err: fmt.Errorf("the drill namespace %s does not exist: --in-namespace never creates it (set spec.backups.drill.schedule and run neo4jctl apply); nothing was changed", ns)}
	case !apierrors.IsForbidden(err):
		return fmt.Errorf("read namespace %s: %w", ns, err)
	}
	cm, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, manifests.DrillConfigMapName, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("the drill namespace %s: its ConfigMap %s: %w", ns, manifests.DrillConfigMapName, err)
	}
	if !manifests.IsDrillObject(cm.Labels, c.Metadata.Name, namespace) {
		return &ExitCodeError{Code: ExitError, Err: fmt.Errorf("namespace %s holds no drill objects of %s/%s; nothing was changed", ns, namespace, c.Metadata.Name)}
	}
	return nil
}

// emptyDrillNamespace deletes what the drill put in ns, object by
// object (background propagation; the loop lists again until nothing but
// the standing drill objects is left, so a StatefulSet's Pods and claims
// are waited for too), and waits (bounded by ctx) until it is gone.
func emptyDrillNamespace(ctx context.Context, cfg *rest.Config, ns string) error {
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	bg := metav1.DeletePropagationBackground
	var failed []string
	pending := func(del bool) (int, error) {
		n := 0
		for _, gvr := range drillNamespaceKinds {
			list, err := dyn.Resource(gvr).Namespace(ns).List(ctx, metav1.ListOptions{})
			if apierrors.IsNotFound(err) {
				continue // a kind whose CRD is not installed
			}
			if err != nil {
				return n, fmt.Errorf("list %s in %s: %w", gvr.Resource, ns, err)
			}
			for _, o := range list.Items {
				if standingDrillObject(gvr.Resource, o.GetName(), o.GetLabels()) {
					continue
				}
				n++
				if !del || o.GetDeletionTimestamp() != nil {
					continue
				}
				if err := dyn.Resource(gvr).Namespace(ns).Delete(ctx, o.GetName(), metav1.DeleteOptions{PropagationPolicy: &bg}); err != nil && !apierrors.IsNotFound(err) {
					failed = append(failed, gvr.Resource+"/"+o.GetName()+": "+err.Error())
				}
			}
		}
		return n, nil
	}
	if _, err := pending(true); err != nil {
		return err
	}
	if len(failed) > 0 {
		return fmt.Errorf("delete the scratch cluster in %s: %s", ns, strings.Join(failed, "; "))
	}
	for {
		n, err := pending(true)
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d objects of the scratch cluster are still in %s (their deletion was requested)", n, ns)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// secretsFromAPI reads the Secrets spec.backups names from the cluster's
// namespace through the API (the drill ServiceAccount may get them by
// name) and lays them out as Secret volumes would, in a new directory
// under --secrets-dir (the CronJob's is a memory-backed emptyDir), which
// becomes the drill's --secrets-dir; the returned func removes it.
func (o *DrillOptions) secretsFromAPI(ctx context.Context, cs kubernetes.Interface, c *clusterfile.Cluster) (func(), error) {
	b := c.Spec.Backups
	names := []string{b.Encryption.KeysetSecret.Name}
	if s := b.Storage.CredentialsSecret; s != "" && s != names[0] {
		names = append(names, s)
	}
	parent := o.SecretsDir
	if st, err := os.Stat(parent); err != nil || !st.IsDir() {
		parent = ""
	}
	dir, err := os.MkdirTemp(parent, "drill-secrets-")
	if err != nil {
		return nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	for _, name := range names {
		s, err := cs.CoreV1().Secrets(o.SecretsNamespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			cleanup()
			return nil, fmt.Errorf("read Secret %s/%s: %w", o.SecretsNamespace, name, err)
		}
		sd := filepath.Join(dir, name)
		if err := os.Mkdir(sd, 0o700); err != nil {
			cleanup()
			return nil, err
		}
		for k, v := range s.Data {
			if err := os.WriteFile(filepath.Join(sd, k), v, 0o600); err != nil {
				cleanup()
				return nil, err
			}
		}
	}
	o.SecretsDir = dir
	return cleanup, nil
}

// drillWhere is where the drill ran, as its record says: the CronJob's
// Job, or "local".
func (o *DrillOptions) drillWhere(ns string) string {
	getenv := o.getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	if job := getenv(manifests.DrillJobNameEnv); job != "" {
		return "job " + ns + "/" + job
	}
	return "local"
}
