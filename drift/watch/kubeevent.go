package watch

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
)

// ReportingController names watch in the Events it records.
const ReportingController = "neo4jctl.io/watch"

// recordEvent creates one core/v1 Event about obj. Watch creates Events
// itself rather than through client-go's recorder: the recorder aggregates
// repeats with PATCH requests, and watch already reports each distinct
// drift once, so `create` is the only verb its Role needs.
func recordEvent(ctx context.Context, cs kubernetes.Interface, obj *unstructured.Unstructured, typ, reason, msg, instance string) error {
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
		Source:              corev1.EventSource{Component: "neo4jctl-watch"},
		FirstTimestamp:      metav1.NewTime(now),
		LastTimestamp:       metav1.NewTime(now),
		Count:               1,
		ReportingController: ReportingController,
		ReportingInstance:   truncate(strings.ReplaceAll(instance, " ", "-"), 128),
		Action:              reason,
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := cs.CoreV1().Events(obj.GetNamespace()).Create(ctx, ev, metav1.CreateOptions{})
	return err
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
