package kube

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	batchv1client "k8s.io/client-go/kubernetes/typed/batch/v1"
	"k8s.io/utils/ptr"
)

func (c *Client) batch() (batchv1client.BatchV1Interface, error) {
	return batchv1client.NewForConfig(c.config)
}

// CronJob returns a CronJob, or nil when there is none.
func (c *Client) CronJob(ctx context.Context, namespace, name string) (*batchv1.CronJob, error) {
	b, err := c.batch()
	if err != nil {
		return nil, err
	}
	cj, err := b.CronJobs(namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get CronJob %s/%s: %w", namespace, name, err)
	}
	return cj, nil
}

// ServiceAccountExists reports whether a ServiceAccount exists.
func (c *Client) ServiceAccountExists(ctx context.Context, namespace, name string) (bool, error) {
	_, err := c.core.ServiceAccounts(namespace).Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("get ServiceAccount %s/%s: %w", namespace, name, err)
	}
	return true, nil
}

// CreateJob creates a Job (never updates one: a one-off Job is new).
func (c *Client) CreateJob(ctx context.Context, job *batchv1.Job) (*batchv1.Job, error) {
	b, err := c.batch()
	if err != nil {
		return nil, err
	}
	out, err := b.Jobs(job.Namespace).Create(ctx, job, metav1.CreateOptions{FieldManager: FieldManager})
	if err != nil {
		return nil, fmt.Errorf("create Job %s/%s: %w", job.Namespace, job.Name, err)
	}
	return out, nil
}

// JobOutcome is how a followed Job ended.
type JobOutcome struct {
	// Succeeded is the Job's Complete condition; false with Reason set
	// is its Failed condition.
	Succeeded bool
	Reason    string
	Message   string
	// Pods are the names of the Job's Pods, oldest first.
	Pods []string
}

// FollowJob reports a Job's progress, one line per change: its Pods'
// phases and container states, and the events of the Job and its Pods,
// until the Job completes or fails (the outcome) or ctx ends (ctx's
// error; the Job keeps running). It polls: a Job's life is minutes, and
// a list every interval costs the API server less than three watches.
func (c *Client) FollowJob(ctx context.Context, namespace, name string, interval time.Duration, report func(string)) (JobOutcome, error) {
	b, err := c.batch()
	if err != nil {
		return JobOutcome{}, err
	}
	seen := map[string]bool{}
	say := func(key, line string) {
		if !seen[key] {
			seen[key] = true
			report(line)
		}
	}
	podState := map[string]string{}
	for {
		job, err := b.Jobs(namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			if ctx.Err() != nil {
				return JobOutcome{}, ctx.Err()
			}
			return JobOutcome{}, fmt.Errorf("get Job %s/%s: %w", namespace, name, err)
		}
		pods, err := c.core.Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: batchv1.JobNameLabel + "=" + name})
		if err != nil {
			if ctx.Err() != nil {
				return JobOutcome{}, ctx.Err()
			}
			return JobOutcome{}, fmt.Errorf("list the Pods of Job %s/%s: %w", namespace, name, err)
		}
		sort.Slice(pods.Items, func(i, j int) bool {
			return pods.Items[i].CreationTimestamp.Before(&pods.Items[j].CreationTimestamp)
		})
		uids := map[string]string{string(job.UID): "job/" + name}
		var names []string
		for i := range pods.Items {
			p := &pods.Items[i]
			names = append(names, p.Name)
			uids[string(p.UID)] = "pod/" + p.Name
			if st := describePod(p); st != podState[p.Name] {
				podState[p.Name] = st
				report("pod/" + p.Name + ": " + st)
			}
		}
		evs, err := c.core.Events(namespace).List(ctx, metav1.ListOptions{})
		if err == nil {
			items := evs.Items
			sort.SliceStable(items, func(i, j int) bool { return eventTime(&items[i]).Before(eventTime(&items[j])) })
			for i := range items {
				e := &items[i]
				who, ok := uids[string(e.InvolvedObject.UID)]
				if !ok {
					continue
				}
				say("event/"+string(e.UID)+"/"+fmt.Sprint(e.Count), fmt.Sprintf("%s: event %s %s: %s", who, e.Type, e.Reason, strings.TrimSpace(e.Message)))
			}
		}
		for _, cond := range job.Status.Conditions {
			if cond.Status != corev1.ConditionTrue {
				continue
			}
			switch cond.Type {
			case batchv1.JobComplete:
				return JobOutcome{Succeeded: true, Reason: cond.Reason, Message: cond.Message, Pods: names}, nil
			case batchv1.JobFailed:
				return JobOutcome{Reason: cond.Reason, Message: cond.Message, Pods: names}, nil
			}
		}
		select {
		case <-ctx.Done():
			return JobOutcome{Pods: names}, ctx.Err()
		case <-time.After(interval):
		}
	}
}

func eventTime(e *corev1.Event) time.Time {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	}
	return e.CreationTimestamp.Time
}

// describePod is a Pod's phase and what its containers are doing, e.g.
// "Pending, init container neo4j-admin running".
func describePod(p *corev1.Pod) string {
	parts := []string{string(p.Status.Phase)}
	if p.Status.Phase == "" {
		parts[0] = "Pending"
	}
	for _, cond := range p.Status.Conditions {
		if cond.Type == corev1.PodScheduled && cond.Status == corev1.ConditionFalse && cond.Reason != "" {
			parts = append(parts, "not scheduled ("+cond.Reason+")")
		}
	}
	add := func(kind string, statuses []corev1.ContainerStatus) {
		for _, s := range statuses {
			switch st := s.State; {
			case st.Running != nil:
				parts = append(parts, kind+" "+s.Name+" running")
			case st.Waiting != nil && st.Waiting.Reason != "" && st.Waiting.Reason != "PodInitializing":
				parts = append(parts, kind+" "+s.Name+" waiting ("+st.Waiting.Reason+")")
			case st.Terminated != nil:
				parts = append(parts, fmt.Sprintf("%s %s exited %d (%s)", kind, s.Name, st.Terminated.ExitCode, st.Terminated.Reason))
			}
		}
	}
	add("init container", p.Status.InitContainerStatuses)
	add("container", p.Status.ContainerStatuses)
	return strings.Join(parts, ", ")
}

// ErrJobFailed is returned by callers when a followed Job failed.
var ErrJobFailed = errors.New("job failed")

// StatefulSetReplicas returns a StatefulSet's spec.replicas (found false
// when there is no such StatefulSet).
func (c *Client) StatefulSetReplicas(ctx context.Context, namespace, name string) (replicas int32, found bool, err error) {
	sts, err := c.apps.StatefulSets(namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("get StatefulSet %s/%s: %w", namespace, name, err)
	}
	if sts.Spec.Replicas == nil {
		return 1, true, nil
	}
	return *sts.Spec.Replicas, true, nil
}

// ScaleStatefulSet sets a StatefulSet's spec.replicas with a merge patch
// under neo4jctl's field manager (as ResizeClaim patches a claim): the
// value neo4jctl's next apply sends is the one restored, so the apply
// finds no conflict.
func (c *Client) ScaleStatefulSet(ctx context.Context, namespace, name string, replicas int32) error {
	patch := fmt.Sprintf(`{"spec":{"replicas":%d}}`, replicas)
	return c.retry(ctx, "scale StatefulSet "+namespace+"/"+name, func(ctx context.Context) error {
		_, err := c.apps.StatefulSets(namespace).Patch(ctx, name, types.MergePatchType, []byte(patch), metav1.PatchOptions{FieldManager: FieldManager})
		return err
	})
}

// WaitPodGone waits until Pod namespace/name no longer exists (a Pod that
// is terminating still holds its volumes), polling every interval.
func (c *Client) WaitPodGone(ctx context.Context, namespace, name string, interval time.Duration) error {
	for {
		_, err := c.core.Pods(namespace).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil && ctx.Err() == nil && !IsTransient(err) {
			return fmt.Errorf("get Pod %s/%s: %w", namespace, name, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for Pod %s/%s to be gone: %w", namespace, name, ctx.Err())
		case <-time.After(interval):
		}
	}
}

// DeleteJob deletes a Job and its Pods (foreground), and waits until no
// Pod of it is left: a stopped dump must have let go of the data claim
// before the server starts on it again.
func (c *Client) DeleteJob(ctx context.Context, namespace, name string, interval time.Duration) error {
	b, err := c.batch()
	if err != nil {
		return err
	}
	err = b.Jobs(namespace).Delete(ctx, name, metav1.DeleteOptions{PropagationPolicy: ptr.To(metav1.DeletePropagationForeground)})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete Job %s/%s: %w", namespace, name, err)
	}
	for {
		pods, err := c.core.Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: batchv1.JobNameLabel + "=" + name})
		if err == nil && len(pods.Items) == 0 {
			return nil
		}
		if err != nil && ctx.Err() == nil && !IsTransient(err) {
			return fmt.Errorf("list the Pods of Job %s/%s: %w", namespace, name, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for the Pods of Job %s/%s to be gone: %w", namespace, name, ctx.Err())
		case <-time.After(interval):
		}
	}
}

// FailedJob is a Job whose Failed condition is true.
type FailedJob struct {
	UID    string
	Name   string
	Labels map[string]string
	// Args are its init containers' and containers' arguments, which
	// name the databases of a backup run (the lock holder's --database).
	Args    []string
	Time    time.Time
	Reason  string
	Message string
}

// FailedJobs lists the failed Jobs matching a label selector.
func (c *Client) FailedJobs(ctx context.Context, namespace, selector string) ([]FailedJob, error) {
	b, err := c.batch()
	if err != nil {
		return nil, err
	}
	list, err := b.Jobs(namespace).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil, fmt.Errorf("list Jobs in %s: %w", namespace, err)
	}
	var out []FailedJob
	for _, j := range list.Items {
		for _, cond := range j.Status.Conditions {
			if cond.Type != batchv1.JobFailed || cond.Status != corev1.ConditionTrue {
				continue
			}
			f := FailedJob{UID: string(j.UID), Name: j.Name, Labels: j.Labels, Time: cond.LastTransitionTime.Time, Reason: cond.Reason, Message: cond.Message}
			for _, ctr := range append(j.Spec.Template.Spec.InitContainers, j.Spec.Template.Spec.Containers...) {
				f.Args = append(f.Args, ctr.Args...)
			}
			out = append(out, f)
		}
	}
	return out, nil
}
