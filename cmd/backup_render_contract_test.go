package cmd

import (
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/internal/iostreams"
	"github.com/neo4jctl/neo4jctl/manifests"
)

// TestRenderedAgentArgsParse: the arguments manifests renders for the
// backup Pods' agent container are ones `neo4jctl backup agent` accepts,
// meaning what the Pod means (the chain directory, the inspect file, the
// type asked for, retention on), the lock holder's likewise, and
// `backup create` is registered.
func TestRenderedAgentArgsParse(t *testing.T) {
	c, err := clusterfile.LoadFile("../examples/backups.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{manifests.BackupFull, manifests.BackupDiff} {
		job, err := manifests.BackupJob(c, "neo4j", typ, nil, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		args := job.Spec.Template.Spec.Containers[0].Args
		if len(args) < 2 || args[0] != "backup" || args[1] != "agent" {
			t.Fatalf("agent args %q", args)
		}
		io, _, _, _ := iostreams.Test()
		var got *BackupAgentOptions
		cmd := NewCmdBackupAgent(&Factory{IO: io, KubeFlags: genericclioptions.NewConfigFlags(true)}, func(o *BackupAgentOptions) error { got = o; return nil })
		cmd.SetArgs(args[2:])
		cmd.SetOut(io.Out)
		cmd.SetErr(io.ErrOut)
		if err := cmd.Execute(); err != nil {
			t.Fatalf("%s: backup agent %q: %v", typ, args[2:], err)
		}
		if got.File != manifests.BackupClusterFileDir+"/cluster.yaml" || got.Agent.FromDir != manifests.BackupChainsDir ||
			got.Agent.InspectFile != manifests.BackupInspectFile || got.Agent.RequestedType != typ || !got.Agent.Prune ||
			got.SecretsDir != manifests.BackupSecretsDir {
			t.Errorf("%s: agent options %+v", typ, got)
		}
		largs := job.Spec.Template.Spec.InitContainers[0].Args
		var lk *BackupLockOptions
		lcmd := NewCmdBackupLock(&Factory{IO: io, KubeFlags: genericclioptions.NewConfigFlags(true)}, func(o *BackupLockOptions) error { lk = o; return nil })
		lcmd.SetArgs(largs[2:])
		lcmd.SetOut(io.Out)
		lcmd.SetErr(io.ErrOut)
		if err := lcmd.Execute(); err != nil {
			t.Fatalf("%s: backup lock %q: %v", typ, largs[2:], err)
		}
		if lk.StateDir != manifests.BackupWorkDir || lk.TTL != manifests.BackupLockTTL || len(lk.Databases) != 1 || lk.Databases[0] != "*" ||
			lk.File != got.File || lk.SecretsDir != manifests.BackupSecretsDir {
			t.Errorf("%s: lock options %+v", typ, lk)
		}
	}
	io, _, _, _ := iostreams.Test()
	root := NewCmdRoot(&Factory{IO: io, KubeFlags: genericclioptions.NewConfigFlags(true)})
	if c, _, err := root.Find([]string{"backup", "create"}); err != nil || c.Name() != "create" {
		t.Errorf("neo4jctl backup create is not registered: found %v, %v", c.Name(), err)
	}
}
