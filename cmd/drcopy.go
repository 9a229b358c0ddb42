package cmd

import (
	"context"
	"errors"
	"fmt"
	"os"

	"go.yaml.in/yaml/v3"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/neo4jctl/neo4jctl/backup/restore"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/internal/kube"
)

// drillBackups is where a drill reads its backups: the cluster file's
// primary storage, or with --from-copy the copy it names, whose own
// catalogue (docs/backup-catalog.md, "Copies carry their entries") is
// read instead: the primary is never opened. cat is the cluster the
// catalogue is opened for; location the bucket's URL for the report.
func (o *DrillOptions) drillBackups(c *clusterfile.Cluster) (cat *clusterfile.Cluster, copyLoc *clusterfile.BackupLocation, location string, err error) {
	if o.FromCopy == "" {
		return c, nil, restore.LocationURL(c.Spec.Backups.Storage.URL), nil
	}
	loc, err := restore.ResolveCopy(c.Spec.Backups, o.FromCopy)
	if err != nil {
		return nil, nil, "", &ExitCodeError{Code: ExitError, Err: fmt.Errorf("%s: %w; nothing was changed", o.File, err)}
	}
	return copySource(c, &loc), &loc, "the copy " + restore.LocationURL(loc.URL), nil
}

// copyCopySecret copies the credentials Secret of the copy a drill reads
// (--from-copy) into the scratch namespace, beside drillSecrets: the
// restore's Pods mount it to read the copy.
func copyCopySecret(ctx context.Context, from, to kubernetes.Interface, c *clusterfile.Cluster, loc *clusterfile.BackupLocation, fromNS, toNS string) error {
	if loc == nil || loc.CredentialsSecret == "" {
		return nil
	}
	for _, n := range drillSecrets(c) {
		if n == loc.CredentialsSecret {
			return nil // copied already
		}
	}
	s, err := from.CoreV1().Secrets(fromNS).Get(ctx, loc.CredentialsSecret, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("read Secret %s/%s: %w", fromNS, loc.CredentialsSecret, err)
	}
	cp := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: s.Name, Namespace: toNS, Labels: map[string]string{DrillLabel: c.Metadata.Name}}, Type: s.Type, Data: s.Data}
	if _, err := to.CoreV1().Secrets(toNS).Create(ctx, cp, metav1.CreateOptions{}); err != nil {
		if !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("copy Secret %s into %s: %w", cp.Name, toNS, err)
		}
		if _, err := to.CoreV1().Secrets(toNS).Update(ctx, cp, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("copy Secret %s into %s: %w", cp.Name, toNS, err)
		}
	}
	return nil
}

// scratchFromCopy makes the copy loc the scratch cluster file's only
// backup storage (its spec.backups.storage, no copies), as
// restore.FetchBackups does for a restore's Pods: everything the scratch
// cluster does with backups — the apply's objects, the restore's Pods
// (backup download reads the copy's own catalogue entry and artifact),
// the healthcheck's reads — goes to the copy, never to the primary. nil
// leaves the file as it is.
func scratchFromCopy(file string, loc *clusterfile.BackupLocation) error {
	if loc == nil {
		return nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return errors.New(file + ": not a mapping")
	}
	spec := mappingChild(doc.Content[0], "spec", false)
	if spec == nil {
		return errors.New(file + ": no spec")
	}
	bk := mappingChild(spec, "backups", false)
	if bk == nil {
		return errors.New(file + ": no spec.backups")
	}
	deleteKey(bk, "storage")
	deleteKey(bk, "copies")
	st := mappingChild(bk, "storage", true)
	setScalar(st, "url", loc.URL)
	if loc.CredentialsSecret != "" {
		setScalar(st, "credentialsSecret", loc.CredentialsSecret)
	}
	if loc.WorkloadIdentity {
		st.Content = append(st.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "workloadIdentity"},
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"})
	}
	out, err := yaml.Marshal(&doc)
	if err != nil {
		return err
	}
	return os.WriteFile(file, out, 0o600)
}

// scratchClients are the clients of the scratch side of a drill: the
// cluster's own (kc, cs) or, with --to-context, a Factory, kube client
// and clientset for that context of the same kubeconfig (DR into another
// Kubernetes cluster). Everything the scratch cluster is — namespace,
// copied Secrets, apply, restore, healthcheck, count — goes there; the
// Secrets are read through cs, in the cluster's own context.
func (o *DrillOptions) scratchClients(kc *kube.Client, cs kubernetes.Interface) (*Factory, *kube.Client, kubernetes.Interface, error) {
	if o.ToContext == "" {
		return o.f, kc, cs, nil
	}
	tf := factoryForContext(o.f, o.ToContext)
	// The context must exist: a typo would otherwise fall back on
	// nothing and fail later, after the source was read.
	raw, err := tf.KubeFlags.ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		return nil, nil, nil, err
	}
	if _, ok := raw.Contexts[o.ToContext]; !ok {
		return nil, nil, nil, &ExitCodeError{Code: ExitError, Err: fmt.Errorf("--to-context %s: no such context in the kubeconfig; nothing was changed", o.ToContext)}
	}
	tkc, err := o.cluster.kubeClient(tf)
	if err != nil {
		return nil, nil, nil, err
	}
	tcs, err := kubernetes.NewForConfig(tkc.RESTConfig())
	if err != nil {
		return nil, nil, nil, err
	}
	return tf, tkc, tcs, nil
}

// factoryForContext is f acting in kubeconfig context name: the same
// kubeconfig and client settings, the context's cluster, user and
// namespace.
func factoryForContext(f *Factory, name string) *Factory {
	src := f.KubeFlags
	kf := genericclioptions.NewConfigFlags(true)
	kf.KubeConfig, kf.Context = src.KubeConfig, &name
	kf.Insecure, kf.Timeout, kf.CacheDir = src.Insecure, src.Timeout, src.CacheDir
	kf.Impersonate, kf.ImpersonateUID, kf.ImpersonateGroup = src.Impersonate, src.ImpersonateUID, src.ImpersonateGroup
	kf.WrapConfigFn = src.WrapConfigFn
	return &Factory{IO: f.IO, KubeFlags: kf, Build: f.Build}
}
