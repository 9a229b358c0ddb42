package cmd

import (
	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/manifests"
)

// runCIRole renders the least-privilege read-only credentials of plan and
// drift for the cluster in the file: the Secrets and issuers it may read are
// those the cluster references.
func (o *RenderOptions) runCIRole() error {
	t, err := loadTarget(o.File, o.FlagNamespace, o.IO.In)
	if err != nil {
		return err
	}
	refs := kube.ReferencesOf(t.Objects)
	opts := manifests.CIRoleOptions{Namespace: t.Namespace, Cluster: t.Cluster.Metadata.Name, ServiceAccount: o.CIRoleServiceAccount, Objects: t.Objects,
		APIServer: manifests.UsesAPIServer(t.Cluster), Verification: len(t.Verify) > 0, Drill: len(t.Drill) > 0}
	for name := range refs.Secrets {
		opts.SecretNames = append(opts.SecretNames, name)
	}
	// The TLS Secret (cert-manager's, left out of the references as the
	// file makes it) holds the CA that verifies Bolt.
	if t.Cluster.Spec.TLS != nil {
		if s := manifests.TLSSecretName(t.Cluster); s != "" && refs.Secrets[s] == nil {
			opts.SecretNames = append(opts.SecretNames, s)
		}
	}
	for ref := range refs.Issuers {
		opts.Issuers = append(opts.Issuers, ref)
	}
	objs, err := manifests.CIRole(opts)
	if err != nil {
		return err
	}
	return writeObjects(o.IO.Out, objs, o.Output)
}
