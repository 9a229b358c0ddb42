package apply

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/neo4jctl/neo4jctl/healthcheck"
	"github.com/neo4jctl/neo4jctl/plan"
)

// upgradePreflight waits until the two queries the Upgrade and Migration
// Guide runs before each server of an in-place rolling upgrade return no
// rows (plan.KindUpgradePreflight): every server hosts what it is
// requested to host, and every database allocation is at its requested
// status. The rows are read once per attempt with the roll gate's own
// observation, and the WHERE clauses evaluated on them, so the pre-flight
// and the gate see the same cluster. Not met within the step timeout, the
// upgrade stops before the server's Pod is touched.
func (e *Executor) upgradePreflight(ctx context.Context, s plan.Step) (outcome, error) {
	ctx, cancel := context.WithTimeout(ctx, e.Options.StepTimeout)
	defer cancel()
	pod := ""
	if s.Rollout != nil && len(s.Rollout.Pods) == 1 {
		pod = s.Rollout.Pods[0]
	}
	err := e.poll(ctx, s, "the upgrade pre-flight before "+pod+" (no server hosting other than requested, no database other than its requested status)", func(ctx context.Context) (bool, string, error) {
		in, err := e.readRollInput(ctx)
		if err != nil {
			return false, "", err
		}
		rows := preflightRows(in)
		return len(rows) == 0, strings.Join(rows, "; "), nil
	})
	if err != nil {
		return outcome{}, fmt.Errorf("%w; %s was not restarted and the servers not yet upgraded keep their version: make the cluster whole again and run apply again", err, pod)
	}
	if s.Upgrade != nil && s.Upgrade.MaxBackupAge != "" {
		if err := e.upgradeBackupCheck(ctx, s.Upgrade.MaxBackupAge); err != nil {
			return outcome{}, fmt.Errorf("%w; %s was not restarted: take a backup (neo4jctl backup create) and run apply again, or upgrade without this check with --skip-backup-check", err, pod)
		}
		return outcome{unchanged: true, note: "pre-flight passed: both queries returned no rows, and every database has a backup younger than " + s.Upgrade.MaxBackupAge}, nil
	}
	return outcome{unchanged: true, note: "pre-flight passed: both queries returned no rows"}, nil
}

// upgradeBackupCheck passes when every database the catalogue is asked
// about has a backup younger than maxAge.
func (e *Executor) upgradeBackupCheck(ctx context.Context, maxAge string) error {
	limit, err := time.ParseDuration(maxAge)
	if err != nil {
		return fmt.Errorf("the plan's backup age %q: %w", maxAge, err)
	}
	if e.Options.Backups == nil {
		return errors.New("the backup check could not read the catalogue (no reader was given)")
	}
	dbs, err := e.Options.Backups(ctx)
	if err != nil {
		return fmt.Errorf("the backup check could not read the catalogue: %w", err)
	}
	now := e.Options.Now()
	var stale []string
	for _, d := range dbs {
		switch {
		case d.LastSuccess.IsZero():
			stale = append(stale, d.Name+" has no backup")
		case now.Sub(d.LastSuccess) > limit:
			stale = append(stale, fmt.Sprintf("%s's newest backup is %s old", d.Name, now.Sub(d.LastSuccess).Round(time.Minute)))
		}
	}
	if len(stale) > 0 {
		return fmt.Errorf("no backup younger than %s (spec.upgrade.maxBackupAge): %s", limit, strings.Join(stale, "; "))
	}
	return nil
}

// preflightRows are the rows plan.PreflightServers and
// plan.PreflightDatabases would return, as text.
func preflightRows(in healthcheck.RollInput) []string {
	var rows []string
	ids := make([]string, 0, len(in.Servers))
	for id := range in.Servers {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		srv := in.Servers[id]
		// Compared as sets (sameSet): the order of the two lists is not
		// what the guide's check is about.
		if !sameSet(srv.Hosting, srv.RequestedHosting) {
			rows = append(rows, fmt.Sprintf("server %s hosts [%s], requested [%s]", srv.Name, strings.Join(srv.Hosting, ", "), strings.Join(srv.RequestedHosting, ", ")))
		}
	}
	for _, a := range in.Databases {
		if a.CurrentStatus != a.RequestedStatus {
			rows = append(rows, fmt.Sprintf("database %s on %s is %s, requested %s", a.Name, a.Address, orDash(a.CurrentStatus), a.RequestedStatus))
		}
	}
	return rows
}

// upgradeVerify checks, once, that the server of every Pod of the step
// reports the upgrade's version in SHOW SERVERS (plan.KindUpgradeVerify).
// It does not wait: the rolling-update steps before it waited for every
// server to be back, so the version a server reports now is the version
// its image runs.
func (e *Executor) upgradeVerify(ctx context.Context, s plan.Step) (outcome, error) {
	if s.Upgrade == nil || s.Rollout == nil {
		return outcome{}, fmt.Errorf("the step names no upgrade")
	}
	servers, err := e.readServers(ctx)
	if err != nil {
		return outcome{}, err
	}
	var off []string
	for _, pod := range s.Rollout.Pods {
		// PodAddresses: a Helm-layout server advertises its release's
		// Service, not its Pod's name (plan.helmPodAddresses).
		srv, ok := e.findServer(servers, &plan.ServerStep{StatefulSet: s.Rollout.StatefulSet, Name: pod, Ordinal: ordinalOf(pod), PodAddress: s.Rollout.PodAddresses[pod]})
		switch {
		case !ok:
			off = append(off, pod+": no server")
		case baseVersion(srv.Version) != baseVersion(s.Upgrade.To):
			off = append(off, fmt.Sprintf("%s reports %s", pod, orDash(srv.Version)))
		}
	}
	if len(off) > 0 {
		return outcome{}, fmt.Errorf("the upgrade did not happen: %s after the restart, spec.version is %s; make the image run spec.version (check spec.image)", strings.Join(off, "; "), s.Upgrade.To)
	}
	return outcome{unchanged: true, note: "every server reports " + s.Upgrade.To}, nil
}

// baseVersion drops a suffix ("-enterprise", "-aura") from a version.
func baseVersion(v string) string {
	v, _, _ = strings.Cut(strings.TrimSpace(v), "-")
	return v
}
