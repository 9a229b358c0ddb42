package kube

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/neo4jctl/neo4jctl/internal/state"
)

var stsGR = schema.GroupResource{Group: "apps", Resource: "statefulsets"}

func TestIsTransient(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"server timeout", apierrors.NewServerTimeout(stsGR, "patch", 1), true},
		{"timeout", apierrors.NewTimeoutError("slow", 1), true},
		{"429", apierrors.NewTooManyRequests("slow down", 1), true},
		{"500", apierrors.NewInternalError(errors.New("boom")), true},
		{"503", apierrors.NewServiceUnavailable("starting"), true},
		{"etcd leader change", apierrors.NewGenericServerResponse(500, "patch", stsGR, "x", "etcdserver: leader changed", 0, false), true},
		{"connection refused", &net.OpError{Op: "dial", Net: "tcp", Err: &osSyscallError{syscall.ECONNREFUSED}}, true},
		{"wrapped connection refused", fmt.Errorf("get: %w", syscall.ECONNREFUSED), true},
		{"unexpected EOF", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), true},
		{"conflict 409", apierrors.NewConflict(stsGR, "x", errors.New("field manager")), false},
		{"ConflictError", &ConflictError{Address: "a", Err: apierrors.NewInternalError(errors.New("x"))}, false},
		{"forbidden", apierrors.NewForbidden(stsGR, "x", errors.New("no")), false},
		{"invalid", apierrors.NewInvalid(schema.GroupKind{Group: "apps", Kind: "StatefulSet"}, "x", nil), false},
		{"not found", apierrors.NewNotFound(stsGR, "x"), false},
		{"resource not served (404 page not found)", apierrors.NewGenericServerResponse(404, "patch", stsGR, "x", "404 page not found", 0, true), false},
		{"canceled", fmt.Errorf("get: %w", context.Canceled), false},
		{"plain error", errors.New("bad yaml"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsTransient(tt.err); got != tt.want {
				t.Errorf("IsTransient(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

// osSyscallError mimics os.SyscallError so net.OpError wraps an errno the
// way the dialer does.
type osSyscallError struct{ errno syscall.Errno }

func (e *osSyscallError) Error() string { return "connect: " + e.errno.Error() }
func (e *osSyscallError) Unwrap() error { return e.errno }

func TestRetry(t *testing.T) {
	type call struct {
		What    string
		Attempt int
	}
	fast := wait.Backoff{Duration: time.Millisecond, Factor: 1, Steps: 4}
	transient := apierrors.NewServiceUnavailable("restarting")
	tests := []struct {
		name      string
		errs      []error // returned by successive attempts; nil after the end
		wantCalls int
		wantHooks []call
		wantErr   bool
	}{
		{"success at once", nil, 1, nil, false},
		{"transient then success", []error{transient, transient}, 3, []call{{"op", 1}, {"op", 2}}, false},
		{"permanent stops at once", []error{apierrors.NewForbidden(stsGR, "x", errors.New("no"))}, 1, nil, true},
		{"transient until attempts run out", []error{transient, transient, transient, transient, transient}, 4, []call{{"op", 1}, {"op", 2}, {"op", 3}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hooks []call
			c := &Client{opts: Options{Backoff: fast, OnRetry: func(what string, attempt int, err error) {
				hooks = append(hooks, call{what, attempt})
			}}.withDefaults()}
			calls := 0
			err := c.retry(context.Background(), "op", func(context.Context) error {
				calls++
				if calls <= len(tt.errs) {
					return tt.errs[calls-1]
				}
				return nil
			})
			if (err != nil) != tt.wantErr {
				t.Errorf("retry() error = %v, want error %v", err, tt.wantErr)
			}
			if calls != tt.wantCalls {
				t.Errorf("got %d calls, want %d", calls, tt.wantCalls)
			}
			if diff := cmp.Diff(tt.wantHooks, hooks); diff != "" {
				t.Errorf("OnRetry calls mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRetryHookFromContext: a context's hook takes the retries of requests
// made with it, so one Client can serve a fleet whose clusters each report
// their own; without one, Options.OnRetry still hears them.
func TestRetryHookFromContext(t *testing.T) {
	var fromOpts, fromCtx []int
	c := &Client{opts: Options{Backoff: wait.Backoff{Duration: time.Millisecond, Factor: 1, Steps: 3},
		OnRetry: func(_ string, attempt int, _ error) { fromOpts = append(fromOpts, attempt) }}.withDefaults()}
	failTwice := func() func(context.Context) error {
		n := 0
		return func(context.Context) error {
			if n++; n <= 2 {
				return apierrors.NewServiceUnavailable("restarting")
			}
			return nil
		}
	}
	ctx := WithRetryHook(context.Background(), func(_ string, attempt int, _ error) { fromCtx = append(fromCtx, attempt) })
	if err := c.retry(ctx, "op", failTwice()); err != nil {
		t.Fatal(err)
	}
	if err := c.retry(context.Background(), "op", failTwice()); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(fromCtx, []int{1, 2}) || !slices.Equal(fromOpts, []int{1, 2}) {
		t.Errorf("retries heard: context hook %v, Options.OnRetry %v; want [1 2] each", fromCtx, fromOpts)
	}
}

func TestRetryStopsOnCancel(t *testing.T) {
	c := &Client{opts: Options{Backoff: wait.Backoff{Duration: time.Hour, Factor: 1, Steps: 3}}.withDefaults()}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	start := time.Now()
	err := c.retry(ctx, "op", func(context.Context) error { return apierrors.NewServiceUnavailable("x") })
	if !errors.Is(err, context.Canceled) || time.Since(start) > 5*time.Second {
		t.Errorf("got %v after %s, want context.Canceled promptly", err, time.Since(start))
	}
}

func TestDryRunErrorClassification(t *testing.T) {
	gk := schema.GroupKind{Group: "apps", Kind: "StatefulSet"}
	immutable := apierrors.NewInvalid(gk, "prod", field.ErrorList{field.Forbidden(field.NewPath("spec"),
		"updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden")})
	selector := apierrors.NewInvalid(gk, "prod", field.ErrorList{field.Invalid(field.NewPath("spec", "selector"), "x", "field is immutable")})
	invalid := apierrors.NewInvalid(gk, "prod", field.ErrorList{field.Invalid(field.NewPath("spec", "replicas"), -1, "must be greater than or equal to 0")})
	rbac := apierrors.NewForbidden(stsGR, "prod", errors.New(`User "system:serviceaccount:ns:ro" cannot patch resource "statefulsets" in API group "apps" in the namespace "ns"`))
	quota := apierrors.NewForbidden(schema.GroupResource{Resource: "persistentvolumeclaims"}, "data", errors.New("exceeded quota: q, requested: requests.storage=10Gi"))
	tests := []struct {
		name                 string
		err                  error
		wantObject, wantImmu bool
	}{
		{"statefulset spec forbidden", immutable, true, true},
		{"selector immutable", selector, true, true},
		{"invalid value", invalid, true, false},
		{"rbac denial is not about the object", rbac, false, false},
		{"quota is about the object", quota, true, false},
		{"transient", apierrors.NewServiceUnavailable("x"), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := objectLevelRefusal(tt.err); got != tt.wantObject {
				t.Errorf("objectLevelRefusal() = %v, want %v", got, tt.wantObject)
			}
			if got := IsImmutable(tt.err); got != tt.wantImmu {
				t.Errorf("IsImmutable() = %v, want %v", got, tt.wantImmu)
			}
		})
	}
}

func TestConflictsFromStatus(t *testing.T) {
	err := &apierrors.StatusError{ErrStatus: metav1.Status{
		Status: metav1.StatusFailure, Code: 409, Reason: metav1.StatusReasonConflict,
		Details: &metav1.StatusDetails{Causes: []metav1.StatusCause{
			{Type: metav1.CauseTypeFieldManagerConflict, Message: `conflict with "argocd" using apps/v1`, Field: ".spec.replicas"},
			{Type: metav1.CauseTypeFieldManagerConflict, Message: `conflict with "kubectl" with subresource "scale" using apps/v1`, Field: `.spec.template.spec.containers[name="neo4j"].image`},
		}},
	}}
	want := []state.Conflict{
		{Field: "spec.replicas", Manager: "argocd"},
		{Field: "spec.template.spec.containers[name=neo4j].image", Manager: "kubectl"},
	}
	if diff := cmp.Diff(want, conflictsFromStatus(err)); diff != "" {
		t.Errorf("conflictsFromStatus() mismatch (-want +got):\n%s", diff)
	}
	ce := &ConflictError{Address: "k8s:apps/StatefulSet/g/p", Conflicts: want, Err: err}
	for _, s := range []string{"spec.replicas", `"argocd"`, "--force-conflicts"} {
		if !strings.Contains(ce.Error(), s) {
			t.Errorf("ConflictError.Error() = %q, want it to mention %s", ce.Error(), s)
		}
	}
	if !errors.Is(ce, err) {
		t.Errorf("ConflictError does not unwrap to the API error")
	}
}
