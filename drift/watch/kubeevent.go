package watch

import (
	"context"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/neo4jctl/neo4jctl/internal/kube"
)

// ReportingController names watch in the Events it records.
const ReportingController = "neo4jctl.io/watch"

// recordEvent creates one core/v1 Event about obj through kube, which
// creates it directly (no aggregating recorder): watch already reports each
// distinct drift once, so `create` is the only verb its Role needs.
func recordEvent(ctx context.Context, kc *kube.Client, obj *unstructured.Unstructured, typ, reason, msg, instance string) error {
	return kc.RecordEvent(ctx, obj, kube.EventSource{
		Component:  "neo4jctl-watch",
		Controller: ReportingController,
		Instance:   instance,
	}, typ, reason, msg)
}
