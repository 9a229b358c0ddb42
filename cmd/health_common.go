package cmd

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"github.com/neo4jctl/neo4jctl/backup/ops"
	"github.com/neo4jctl/neo4jctl/internal/pipeline"
)

// healthcheck, status and report read a cluster the same way (status and
// report embed HealthcheckOptions): the flags that shape the observation,
// and the opening of the clusters and the clients below, are shared so the
// three cannot drift apart.

// addObserveFlags adds the flags that shape the observation of a cluster.
func (o *HealthcheckOptions) addObserveFlags(fl *pflag.FlagSet) {
	fl.DurationVar(&o.Recheck, "split-brain-recheck", 5*time.Second, "wait this long and read SHOW DATABASES again when two servers report themselves writer for one database")
	fl.DurationVar(&o.StatusCheckTimeout, "status-check-timeout", time.Second, "how long each member may take to replicate dbms.cluster.statusCheck's entry")
	o.addVolumeStatsFlag(fl)
	fl.StringVar(&o.BackupSecretsDir, "secrets-dir", ops.DefaultSecretsDir, "for the backups check: directory where the Secrets spec.backups names are mounted, as backup list reads them (a Secret not mounted there is read from the environment)")
	o.cluster.add(fl)
}

// bind takes what the command line says beyond the flags: the namespace
// and how to build the runner.
func (o *HealthcheckOptions) bind(f *Factory) {
	o.FlagNamespace = flagNamespace(f)
	o.runner = func() (*pipeline.Runner, error) { return newRunner(f, &o.cluster) }
}

// open loads the cluster files while the clients are built, and checks
// that Kubernetes answers: no access to it at all is an error (exit 1),
// not a verdict on a cluster's health. It returns the server's version.
func (o *HealthcheckOptions) open(ctx context.Context) ([]*pipeline.Target, *pipeline.Runner, string, error) {
	files, err := expandFiles(o.Files)
	if err != nil {
		return nil, nil, "", err
	}
	runner := startRunner(ctx, o.runner)
	targets, err := loadTargets(files, o.FlagNamespace)
	if err != nil {
		return nil, nil, "", err
	}
	r, err := runner()
	if err != nil {
		return nil, nil, "", err
	}
	version, err := r.Kube.ServerVersion(ctx)
	if err != nil {
		return nil, nil, "", fmt.Errorf("cannot reach Kubernetes: %w", err)
	}
	return targets, r, version, nil
}
