package kube

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// EventSource names who records an Event.
type EventSource struct {
	// Component is the Event's source.component (e.g. "neo4jctl-watch").
	Component string
	// Controller is reportingController (e.g. "neo4jctl.io/watch").
	Controller string
	// Instance is reportingInstance; spaces become dashes and it is cut to
	// the API's 128 characters.
	Instance string
}

// RecordEvent creates one core/v1 Event of type typ ("Normal", "Warning")
// about obj, with reason (also used as the action) and msg (cut to 1024
// characters). The Event is created directly rather than through
// client-go's recorder: the recorder aggregates repeats with PATCH
// requests, and callers here already report each distinct occurrence once,
// so `create` on events is the only verb their Role needs. The request is
// bounded to 10 s.
func (c *Client) RecordEvent(ctx context.Context, obj *unstructured.Unstructured, src EventSource, typ, reason, msg string) error {
	now := time.Now()
	if len(msg) > 1024 {
		msg = msg[:1021] + "..."
	}
	ev := &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{
			Name:      fmt.Sprintf("%s.%x", obj.GetName(), now.UnixNano()),
			Namespace: obj.GetNamespace(),
		},
		InvolvedObject: corev1.ObjectReference{
			APIVersion: obj.GetAPIVersion(), Kind: obj.GetKind(), Namespace: obj.GetNamespace(),
			Name: obj.GetName(), UID: obj.GetUID(), ResourceVersion: obj.GetResourceVersion(),
		},
		Reason: reason, Message: msg, Type: typ,
		Source:              corev1.EventSource{Component: src.Component},
		FirstTimestamp:      metav1.NewTime(now),
		LastTimestamp:       metav1.NewTime(now),
		Count:               1,
		ReportingController: src.Controller,
		ReportingInstance:   truncate(strings.ReplaceAll(src.Instance, " ", "-"), 128),
		Action:              reason,
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := c.core.Events(obj.GetNamespace()).Create(ctx, ev, metav1.CreateOptions{})
	return err
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
