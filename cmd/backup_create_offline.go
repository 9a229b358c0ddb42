package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"

	"github.com/neo4jctl/neo4jctl/backup/catalog"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/internal/pipeline"
	"github.com/neo4jctl/neo4jctl/manifests"
)

// OfflinePlan is what `backup create --offline` will do: data, shown
// before the confirmation, and what the run follows.
type OfflinePlan struct {
	Cluster     string   `json:"cluster"`
	Namespace   string   `json:"namespace"`
	StatefulSet string   `json:"statefulSet"`
	Pods        []string `json:"pods"`
	// Replicas is the StatefulSet's spec.replicas now, restored after
	// the dump (or after a failure).
	Replicas  int32    `json:"replicas"`
	Claim     string   `json:"claim"`
	Job       string   `json:"job"`
	Databases []string `json:"databases"`
	Storage   string   `json:"storage"`
	Lease     string   `json:"lease"`
}

// renderOfflinePlan prints the plan, downtime first.
func renderOfflinePlan(w io.Writer, p OfflinePlan) {
	fmt.Fprintf(w, "Offline backup of %s/%s (Neo4j Community has no online backup).\n", p.Namespace, p.Cluster)
	fmt.Fprintf(w, "DOWNTIME: the server stops from step 2 to step 4; clients cannot connect meanwhile.\n\n")
	fmt.Fprintf(w, "  1. take the apply Lease %s (apply, destroy, rotate and watch enforce wait for it)\n", p.Lease)
	fmt.Fprintf(w, "  2. scale StatefulSet %s from %d to 0 and wait until %s %s gone\n", p.StatefulSet, p.Replicas, strings.Join(p.Pods, ", "), plural(len(p.Pods), "is", "are"))
	fmt.Fprintf(w, "  3. Job %s: neo4j-admin database dump %s on claim %s, then the agent stores the dump in %s\n", p.Job, strings.Join(p.Databases, " "), p.Claim, p.Storage)
	fmt.Fprintf(w, "  4. scale StatefulSet %s back to %d and wait until it is Ready\n", p.StatefulSet, p.Replicas)
	fmt.Fprintf(w, "\nA failure or Ctrl-C at any step stops the Job and scales back to %d; the dump only reads the data.\n", p.Replicas)
}

// errOfflineDeclined is returned when the user does not type "yes".
var errOfflineDeclined = errors.New("backup create --offline cancelled: the answer was not \"yes\"; nothing was changed")

// confirmOffline asks on a terminal; without one it refuses unless
// --auto-approve, as apply does.
func (o *BackupCreateOptions) confirmOffline(ctx context.Context) error {
	if o.AutoApprove {
		return nil
	}
	if !o.IO.IsStdinTTY() {
		return errors.New("stdin is not a terminal, so backup create --offline cannot ask before stopping the server; pass --auto-approve to stop it without asking")
	}
	fmt.Fprintf(o.IO.ErrOut, "\nStop the server and back it up? Only 'yes' will be accepted.\n  Enter a value: ")
	answer, err := readLine(ctx, o.IO.In)
	if err != nil {
		return err
	}
	if strings.TrimSpace(answer) != "yes" {
		return &ExitCodeError{Code: ExitError, Err: errOfflineDeclined}
	}
	return nil
}

// runOffline is `backup create --offline`: a Community dump with the
// server stopped. Every failure after the scale-down goes through
// restore, which stops the Job, scales back and says what state the data
// is in.
func (o *BackupCreateOptions) runOffline(ctx context.Context, c *clusterfile.Cluster, ns string) error {
	if c.Spec.Edition != clusterfile.EditionCommunity {
		return fmt.Errorf("%s: --offline is for Neo4j Community; Enterprise takes online backups without stopping a server: drop --offline", o.File)
	}
	if len(manifests.Pools(c)) != 1 {
		return fmt.Errorf("%s: --offline dumps a single server", o.File)
	}
	var dbs []string
	if o.Database != "" {
		dbs = []string{o.Database}
	}
	t, err := loadTarget(o.File, o.FlagNamespace, nil)
	if err != nil {
		return err
	}
	start := o.Now()
	job, err := manifests.OfflineDumpJob(c, ns, dbs, start)
	if err != nil {
		return err
	}
	kc, err := o.Kube()
	if err != nil {
		return err
	}
	if err := requireBackupServiceAccount(ctx, kc, c, ns, o.File, "the backup ServiceAccount and cluster file"); err != nil {
		return err
	}
	pool := manifests.Pools(c)[0].Name
	sts := manifests.StatefulSetName(c, pool)
	replicas, found, err := kc.StatefulSetReplicas(ctx, ns, sts)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("StatefulSet %s/%s is missing: there is no server to back up; run `neo4jctl apply -f %s` first", ns, sts, o.File)
	}
	p := OfflinePlan{
		Cluster: c.Metadata.Name, Namespace: ns, StatefulSet: sts, Replicas: replicas,
		Claim: manifests.DataClaimName(c, pool, 0), Job: job.Name, Databases: dbsOrSchedule(c, dbs),
		Storage: c.Spec.Backups.Storage.URL, Lease: kube.LockName(c.Metadata.Name),
	}
	for i := range int(replicas) {
		p.Pods = append(p.Pods, manifests.PodName(c, pool, i))
	}
	renderOfflinePlan(o.IO.ErrOut, p)
	if err := o.confirmOffline(ctx); err != nil {
		return err
	}
	runCtx := ctx
	if !o.LockHeld {
		lockCtx, release, err := holdApplyLock(ctx, kc, t, o.LockTimeout, o.IO.ErrOut)
		if err != nil {
			return err
		}
		defer release()
		runCtx = lockCtx
	}
	stored, err := o.offlineSequence(runCtx, kc, t, p, job, start)
	if err != nil {
		return err
	}
	catalog.SortEntries(stored)
	return o.print(stored)
}

// offlineKube is what the offline sequence needs of the Kubernetes
// client.
type offlineKube interface {
	ScaleStatefulSet(ctx context.Context, ns, name string, replicas int32) error
	WaitPodGone(ctx context.Context, ns, name string, interval time.Duration) error
	WaitStatefulSet(ctx context.Context, ns, name string, want int, onProgress func(ready, want int)) error
	CreateJob(ctx context.Context, job *batchv1.Job) (*batchv1.Job, error)
	FollowJob(ctx context.Context, ns, name string, interval time.Duration, report func(string)) (kube.JobOutcome, error)
	DeleteJob(ctx context.Context, ns, name string, interval time.Duration) error
}

// offlineSequence scales down, dumps, scales back; on any failure (ctx's
// end included) it restores the replicas before returning.
func (o *BackupCreateOptions) offlineSequence(ctx context.Context, kc offlineKube, t *pipeline.Target, p OfflinePlan, job *batchv1.Job, start time.Time) ([]catalog.Entry, error) {
	ns := p.Namespace
	report := func(line string) {
		fmt.Fprintf(o.IO.ErrOut, "%s  %s\n", o.Now().Format("15:04:05"), line)
	}
	readyTimeout := o.ReadyTimeout
	if readyTimeout <= 0 {
		readyTimeout = 10 * time.Minute
	}
	jobCreated, dumped := false, false
	// restore is the way out of every failure once the server may be
	// stopped: it runs on its own budget (Ctrl-C and a lost Lease end
	// ctx), stops the dump so that the server never starts beside it,
	// and scales back.
	restore := func(stage string, cause error) error {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), readyTimeout+time.Minute)
		defer cancel()
		if ctx.Err() != nil {
			cause = fmt.Errorf("%w (%v)", cause, context.Cause(ctx))
		}
		var data string
		switch {
		case dumped:
			data = "the dump was taken but not all of it was stored (see the agent's log); the data on claim " + p.Claim + " is unchanged: neo4j-admin database dump only reads it"
		default:
			data = "no dump was stored; the data on claim " + p.Claim + " is unchanged: the server was stopped cleanly and neo4j-admin database dump only reads the store"
		}
		var errs []error
		if jobCreated {
			report("stopping job/" + p.Job + " before the server starts again")
			if err := kc.DeleteJob(rctx, ns, p.Job, o.interval()); err != nil {
				errs = append(errs, err)
			}
		}
		if len(errs) == 0 {
			report(fmt.Sprintf("restoring StatefulSet %s to %d %s", p.StatefulSet, p.Replicas, plural(int(p.Replicas), "replica", "replicas")))
			if err := kc.ScaleStatefulSet(rctx, ns, p.StatefulSet, p.Replicas); err != nil {
				errs = append(errs, err)
			} else {
				wctx, wcancel := context.WithTimeout(rctx, readyTimeout)
				err := kc.WaitStatefulSet(wctx, ns, p.StatefulSet, int(p.Replicas), nil)
				wcancel()
				if err != nil {
					return fmt.Errorf("backup create --offline failed while %s: %v. StatefulSet %s/%s is back at %d %s but not Ready yet (%v): check it with kubectl -n %s get pods; %s",
						stage, cause, ns, p.StatefulSet, p.Replicas, plural(int(p.Replicas), "replica", "replicas"), err, ns, data)
				}
				return fmt.Errorf("backup create --offline failed while %s: %v. The server is running again (StatefulSet %s/%s at %d %s, Ready); %s",
					stage, cause, ns, p.StatefulSet, p.Replicas, plural(int(p.Replicas), "replica", "replicas"), data)
			}
		}
		return fmt.Errorf("backup create --offline failed while %s: %v; and the server could NOT be restarted (%v): StatefulSet %s/%s may be at 0 replicas, the server DOWN. %s. Start it with: kubectl -n %s delete job %s --cascade=foreground; kubectl -n %s scale statefulset/%s --replicas=%d (or neo4jctl apply -f %s)",
			stage, cause, errors.Join(errs...), ns, p.StatefulSet, data, ns, p.Job, ns, p.StatefulSet, p.Replicas, o.File)
	}

	report(fmt.Sprintf("scaling StatefulSet %s to 0: the server stops", p.StatefulSet))
	if err := kc.ScaleStatefulSet(ctx, ns, p.StatefulSet, 0); err != nil {
		return nil, restore("scaling down", err)
	}
	for _, pod := range p.Pods {
		wctx, cancel := context.WithTimeout(ctx, readyTimeout)
		err := kc.WaitPodGone(wctx, ns, pod, o.interval())
		cancel()
		if err != nil {
			return nil, restore("waiting for pod/"+pod+" to stop", err)
		}
		report("pod/" + pod + " is gone")
	}
	created, err := kc.CreateJob(ctx, job)
	if err != nil {
		return nil, restore("creating the dump Job", err)
	}
	jobCreated = true
	report(fmt.Sprintf("job/%s created: neo4j-admin database dump %s on claim %s, then the agent", created.Name, strings.Join(p.Databases, " "), p.Claim))
	out, err := kc.FollowJob(ctx, ns, created.Name, o.interval(), func(line string) {
		if strings.Contains(line, "init container neo4j-admin exited 0") {
			dumped = true
		}
		report(line)
	})
	if err != nil {
		return nil, restore("following job/"+created.Name, err)
	}
	if !out.Succeeded {
		return nil, restore("dumping", fmt.Errorf("job/%s failed (%s: %s); see why with: kubectl -n %s logs job/%s --all-containers", created.Name, out.Reason, out.Message, ns, created.Name))
	}
	report(fmt.Sprintf("job/%s complete: the dump is stored", created.Name))
	report(fmt.Sprintf("scaling StatefulSet %s back to %d", p.StatefulSet, p.Replicas))
	if err := kc.ScaleStatefulSet(ctx, ns, p.StatefulSet, p.Replicas); err != nil {
		jobCreated = false // finished: nothing to stop
		dumped = true
		return nil, restore("scaling back", err)
	}
	wctx, cancel := context.WithTimeout(ctx, readyTimeout)
	err = kc.WaitStatefulSet(wctx, ns, p.StatefulSet, int(p.Replicas), func(ready, want int) {
		report(fmt.Sprintf("StatefulSet %s: %d/%d ready", p.StatefulSet, ready, want))
	})
	cancel()
	if err != nil {
		return nil, fmt.Errorf("the dump is stored and StatefulSet %s/%s is back at %d %s, but it is not Ready yet: %w; check it with kubectl -n %s get pods", ns, p.StatefulSet, p.Replicas, plural(int(p.Replicas), "replica", "replicas"), err, ns)
	}
	report("the server is Ready again")

	entries := o.Entries
	if entries == nil {
		entries = o.catalogue
	}
	var stored []catalog.Entry
	for _, db := range dbsOrEmpty(jobDatabases(p.Databases)) {
		es, err := entries(context.WithoutCancel(ctx), t.Cluster, db)
		if err != nil {
			return nil, fmt.Errorf("the dump Job succeeded and the server is running, but the catalogue could not be read: %w; run `neo4jctl backup list -f %s` where the storage credentials are", err, o.File)
		}
		for _, e := range es {
			if !e.Created.Before(start.Add(-time.Minute)) {
				stored = append(stored, e)
			}
		}
	}
	if len(stored) == 0 {
		return nil, fmt.Errorf("the dump Job succeeded and the server is running, but the catalogue has no entry since %s: see the agent's log with kubectl -n %s logs job/%s -c agent", start.UTC().Format(time.RFC3339), ns, p.Job)
	}
	return stored, nil
}

// jobDatabases is the catalogue filter of a run's databases: none (all)
// when one is a pattern.
func jobDatabases(dbs []string) []string {
	for _, d := range dbs {
		if strings.ContainsAny(d, "*?") {
			return nil
		}
	}
	return dbs
}

func (o *BackupCreateOptions) interval() time.Duration {
	if o.Interval > 0 {
		return o.Interval
	}
	return time.Second
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
