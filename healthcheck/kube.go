package healthcheck

import (
	"fmt"
	"strings"
	"time"

	"github.com/neo4jctl/neo4jctl/internal/state"
)

// Crash-loop thresholds from the issue: 3 restarts within 15 minutes.
// Kubernetes keeps a restart count and the last termination only, so "3
// restarts in 15 minutes" is read as "at least 3 restarts, the last one less
// than 15 minutes ago"; CrashLoopBackOff is a crash loop whatever the count.
const (
	crashLoopRestarts = 3
	crashLoopWindow   = 15 * time.Minute
	eventWindow       = time.Hour
	maxEvidence       = 10
)

// Check IDs of the Kubernetes plane.
const (
	IDPods     = "kubernetes.pods"
	IDRestarts = "kubernetes.restarts"
	IDClaims   = "kubernetes.claims"
	IDPDB      = "kubernetes.pdb"
	IDRollout  = "kubernetes.rollout"
	IDEvents   = "kubernetes.events"
)

func kubeUnknown(id, title, reason string) Check {
	return Check{ID: id, Title: title, Status: Unknown, Summary: "could not read Kubernetes: " + reason,
		Fix: "check access to the API server (kubectl auth can-i list pods,events,persistentvolumeclaims,poddisruptionbudgets,statefulsets)"}
}

func checkPods(in *Input) Check {
	c := Check{ID: IDPods, Title: "Pods Ready"}
	if in.KubeErr != "" {
		return kubeUnknown(c.ID, c.Title, in.KubeErr)
	}
	pods := map[string]state.PodHealth{}
	for _, p := range in.Kube.Pods {
		pods[p.Name] = p
	}
	var bad []string
	ready := 0
	for _, s := range in.Expected.Servers {
		p, ok := pods[s.Pod]
		switch {
		case !ok:
			bad = append(bad, fmt.Sprintf("%s: missing", s.Pod))
		case p.Deleting:
			bad = append(bad, fmt.Sprintf("%s: being deleted", s.Pod))
		case !p.Ready:
			why := "phase " + p.Phase
			for _, ct := range p.Containers {
				if ct.Waiting != "" {
					why += ", " + ct.Name + " waiting: " + ct.Waiting
				}
			}
			bad = append(bad, fmt.Sprintf("%s: not Ready (%s)", s.Pod, why))
		default:
			ready++
		}
	}
	c.Evidence = bad
	if len(bad) == 0 {
		c.Status, c.Summary = Pass, fmt.Sprintf("%d of %d Pods Ready", ready, len(in.Expected.Servers))
		return c
	}
	c.Status = Fail
	c.Summary = fmt.Sprintf("%d of %d Pods Ready", ready, len(in.Expected.Servers))
	c.Fix = "kubectl -n " + in.Expected.Namespace + " describe pod <name> shows why; a missing Pod is recreated by its StatefulSet (run neo4jctl apply if the StatefulSet is missing)"
	return c
}

func checkRestarts(in *Input) Check {
	c := Check{ID: IDRestarts, Title: "No crash loops"}
	if in.KubeErr != "" {
		return kubeUnknown(c.ID, c.Title, in.KubeErr)
	}
	var looping, recent []string
	for _, p := range in.Kube.Pods {
		for _, ct := range p.Containers {
			last := ""
			if ct.LastTermination != "" {
				last = fmt.Sprintf(", last termination %s (exit %d)", ct.LastTermination, ct.LastExitCode)
				if !ct.LastFinished.IsZero() {
					last += fmt.Sprintf(" %s ago", ago(in.Now, ct.LastFinished))
				}
			}
			line := fmt.Sprintf("%s/%s: %d %s%s", p.Name, ct.Name, ct.RestartCount, plural(int(ct.RestartCount), "restart", "restarts"), last)
			withinWindow := !ct.LastFinished.IsZero() && in.Now.Sub(ct.LastFinished) < crashLoopWindow
			switch {
			case ct.Waiting == "CrashLoopBackOff":
				looping = append(looping, line+", waiting in CrashLoopBackOff")
			case ct.RestartCount >= crashLoopRestarts && withinWindow:
				looping = append(looping, line)
			case ct.RestartCount > 0 && withinWindow:
				recent = append(recent, line)
			}
		}
	}
	switch {
	case len(looping) > 0:
		c.Status = Fail
		c.Summary = fmt.Sprintf("%d %s restarting in a loop", len(looping), plural(len(looping), "container", "containers"))
		c.Evidence = append(looping, recent...)
		c.Fix = "read the previous container's log (kubectl -n " + in.Expected.Namespace + " logs <pod> --previous); OOMKilled means the memory limit is below heap + page cache + overhead"
	case len(recent) > 0:
		c.Status = Warn
		c.Summary = fmt.Sprintf("%d %s restarted in the last %s", len(recent), plural(len(recent), "container", "containers"), crashLoopWindow)
		c.Evidence = recent
		c.Fix = "read the previous container's log (kubectl -n " + in.Expected.Namespace + " logs <pod> --previous)"
	default:
		c.Status, c.Summary = Pass, fmt.Sprintf("no restarts in the last %s", crashLoopWindow)
	}
	return c
}

func checkClaims(in *Input) Check {
	c := Check{ID: IDClaims, Title: "Claims Bound"}
	if in.KubeErr != "" {
		return kubeUnknown(c.ID, c.Title, in.KubeErr)
	}
	claims := map[string]state.ClaimHealth{}
	for _, cl := range in.Kube.Claims {
		claims[cl.Name] = cl
	}
	var bad []string
	bound := 0
	seen := map[string]bool{}
	for _, p := range in.Kube.Pods {
		for _, name := range p.Claims {
			if seen[name] {
				continue
			}
			seen[name] = true
			cl, ok := claims[name]
			switch {
			case !ok:
				bad = append(bad, fmt.Sprintf("%s (Pod %s): missing", name, p.Name))
			case cl.Phase != "Bound":
				bad = append(bad, fmt.Sprintf("%s (Pod %s): %s, storage class %q", name, p.Name, cl.Phase, cl.StorageClass))
			default:
				bound++
			}
		}
	}
	// A claim of the StatefulSet's templates whose Pod does not exist (a
	// removed ordinal's, or one made ahead of a scale-out) serves nothing
	// now: not Bound, it is worth a look, not a failure.
	var leftover []string
	for _, cl := range in.Kube.Claims {
		if seen[cl.Name] {
			continue
		}
		if cl.Phase != "Bound" {
			leftover = append(leftover, fmt.Sprintf("%s: %s, storage class %q, no Pod mounts it", cl.Name, cl.Phase, cl.StorageClass))
		}
	}
	switch {
	case len(bad) > 0:
		c.Status = Fail
		c.Summary = fmt.Sprintf("%d of %d claims the Pods mount Bound", bound, bound+len(bad))
		c.Evidence = append(bad, leftover...)
		c.Fix = "kubectl -n " + in.Expected.Namespace + " describe pvc <name>: a Pending claim waits for a provisioner or a volume of its storage class"
	case len(leftover) > 0:
		c.Status = Warn
		c.Summary = fmt.Sprintf("%d of %d claims the Pods mount Bound; %d other claims not Bound", bound, bound, len(leftover))
		c.Evidence = leftover
		c.Fix = "delete a claim no ordinal will use again (kubectl -n " + in.Expected.Namespace + " delete pvc <name>); a scale-out would mount it as it is"
	default:
		c.Status, c.Summary = Pass, fmt.Sprintf("%d of %d claims Bound", bound, bound)
	}
	return c
}

func checkPDB(in *Input) Check {
	c := Check{ID: IDPDB, Title: "PodDisruptionBudget"}
	if in.KubeErr != "" {
		return kubeUnknown(c.ID, c.Title, in.KubeErr)
	}
	if in.Expected.PDB == "" {
		c.Status, c.Summary = Skip, "the cluster file renders no PodDisruptionBudget"
		return c
	}
	for _, p := range in.Kube.PDBs {
		if p.Name != in.Expected.PDB {
			continue
		}
		c.Evidence = []string{fmt.Sprintf("%s: %d allowed, %d healthy of %d expected, %d needed", p.Name, p.DisruptionsAllowed, p.CurrentHealthy, p.ExpectedPods, p.DesiredHealthy)}
		switch {
		case p.Stale:
			c.Status, c.Summary = Warn, "the disruption controller has not processed the budget's latest version yet"
			c.Fix = "check again in a moment"
		case p.DisruptionsAllowed <= 0:
			c.Status = Fail
			c.Summary = "0 disruptions allowed: the next voluntary eviction (a node drain, a cluster upgrade) will be refused"
			c.Fix = "bring every server Pod back to Ready (see " + IDPods + ") before draining a node"
		default:
			c.Status, c.Summary = Pass, fmt.Sprintf("%d %s allowed", p.DisruptionsAllowed, plural(int(p.DisruptionsAllowed), "disruption", "disruptions"))
		}
		return c
	}
	c.Status, c.Summary = Fail, fmt.Sprintf("PodDisruptionBudget %s not found: nothing stops a drain from evicting a quorum", in.Expected.PDB)
	c.Fix = "run neo4jctl apply to create it"
	return c
}

func checkRollout(in *Input) Check {
	c := Check{ID: IDRollout, Title: "StatefulSet rollout"}
	if in.KubeErr != "" {
		return kubeUnknown(c.ID, c.Title, in.KubeErr)
	}
	sts := map[string]state.StatefulSetHealth{}
	for _, s := range in.Kube.StatefulSets {
		sts[s.Name] = s
	}
	var missing, rolling, done []string
	for _, name := range in.Expected.StatefulSets {
		s, ok := sts[name]
		switch {
		case !ok:
			missing = append(missing, name+": missing")
		case s.Stale:
			rolling = append(rolling, name+": the controller has not seen the latest spec yet")
		case s.UpdateRevision != s.CurrentRevision || s.UpdatedReplicas < s.Replicas:
			rolling = append(rolling, fmt.Sprintf("%s: %d of %d Pods at revision %s (current %s)", name, s.UpdatedReplicas, s.Replicas, s.UpdateRevision, s.CurrentRevision))
		default:
			done = append(done, fmt.Sprintf("%s: %d Pods at revision %s", name, s.Replicas, s.UpdateRevision))
		}
	}
	switch {
	case len(missing) > 0:
		c.Status, c.Summary, c.Evidence = Fail, "a StatefulSet is missing", append(missing, rolling...)
		c.Fix = "run neo4jctl apply"
	case len(rolling) > 0:
		c.Status, c.Summary, c.Evidence = Warn, "a rollout has not finished (updateRevision differs from currentRevision)", rolling
		c.Fix = "wait for it (kubectl -n " + in.Expected.Namespace + " rollout status statefulset/<name>); a rollout that does not move has a Pod that never became Ready"
	default:
		c.Status, c.Summary, c.Evidence = Pass, "every rollout finished", done
	}
	return c
}

func checkEvents(in *Input) Check {
	c := Check{ID: IDEvents, Title: "Warning events (last hour)"}
	if in.KubeErr != "" {
		return kubeUnknown(c.ID, c.Title, in.KubeErr)
	}
	// The same occurrence is often recorded twice (a core/v1 Event and an
	// events.k8s.io series): one line per object, reason and message, the
	// counts summed, the latest time kept, in order of first appearance.
	type key struct{ object, reason, message string }
	merged := map[key]*state.EventHealth{}
	var order []key
	for _, e := range in.Kube.Events {
		if e.Type != "Warning" || in.Now.Sub(e.Last) > eventWindow {
			continue
		}
		k := key{e.Object, e.Reason, strings.TrimSpace(e.Message)}
		if m, ok := merged[k]; ok {
			m.Count += e.Count
			if e.Last.After(m.Last) {
				m.Last = e.Last
			}
			continue
		}
		e := e
		merged[k] = &e
		order = append(order, k)
	}
	var lines []string
	for _, k := range order {
		e := merged[k]
		lines = append(lines, fmt.Sprintf("%s %s ×%d, %s ago: %s", k.object, k.reason, e.Count, ago(in.Now, e.Last), k.message))
	}
	if len(lines) == 0 {
		c.Status, c.Summary = Pass, "no Warning events in the last hour"
		return c
	}
	c.Status = Warn
	c.Summary = fmt.Sprintf("%d Warning %s in the last hour", len(lines), plural(len(lines), "event", "events"))
	c.Evidence = capEvidence(lines)
	c.Fix = "kubectl -n " + in.Expected.Namespace + " get events --field-selector type=Warning"
	return c
}

// capEvidence keeps evidence readable: the first maxEvidence lines and a count.
func capEvidence(lines []string) []string {
	if len(lines) <= maxEvidence {
		return lines
	}
	return append(lines[:maxEvidence:maxEvidence], fmt.Sprintf("… and %d more", len(lines)-maxEvidence))
}

func ago(now, t time.Time) string {
	d := now.Sub(t).Round(time.Second)
	if d < 0 {
		d = 0
	}
	return d.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
