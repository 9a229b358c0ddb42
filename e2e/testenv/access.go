package testenv

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// kwok CRD kinds enabled with --enable-crds. Port-forwards are CRDs rather
// than entries in kwok's --config file because tests create them at run
// time; kwok exits if a kind is given both ways.
const (
	kwokPortForwardKind        = "PortForward"
	kwokClusterPortForwardKind = "ClusterPortForward"
)

var portForwardGVR = schema.GroupVersionResource{Group: "kwok.x-k8s.io", Version: "v1alpha1", Resource: "portforwards"}

// PortForward makes port-forwards to containerPort of the Pod reach
// 127.0.0.1:localPort, where the test runs a listener (a Bolt simulator, an
// echo server). It creates or updates kwok's PortForward object, which
// must have the Pod's name and namespace; other ports of the same Pod keep
// their targets. The forward works as soon as kwok has seen the object
// (milliseconds); the Pod may be created before or after.
func (e *Env) PortForward(ctx context.Context, namespace, pod string, containerPort, localPort int) error {
	dc, err := dynamic.NewForConfig(e.cfg)
	if err != nil {
		return err
	}
	forward := map[string]any{
		"ports":  []any{int64(containerPort)},
		"target": map[string]any{"address": "127.0.0.1", "port": int64(localPort)},
	}
	res := dc.Resource(portForwardGVR).Namespace(namespace)
	for {
		obj, err := res.Get(ctx, pod, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			obj = &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": "kwok.x-k8s.io/v1alpha1",
				"kind":       kwokPortForwardKind,
				"metadata":   map[string]any{"name": pod, "namespace": namespace},
				"spec":       map[string]any{"forwards": []any{forward}},
			}}
			_, err = res.Create(ctx, obj, metav1.CreateOptions{FieldManager: "testenv"})
			if apierrors.IsAlreadyExists(err) {
				continue // raced with another caller: merge into theirs
			}
			if err != nil {
				return fmt.Errorf("testenv: create PortForward %s/%s: %w", namespace, pod, err)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("testenv: get PortForward %s/%s: %w", namespace, pod, err)
		}
		forwards, _, _ := unstructured.NestedSlice(obj.Object, "spec", "forwards")
		kept := []any{forward}
		for _, f := range forwards {
			if !forwardsPort(f, containerPort) {
				kept = append(kept, f)
			}
		}
		if err := unstructured.SetNestedSlice(obj.Object, kept, "spec", "forwards"); err != nil {
			return err
		}
		_, err = res.Update(ctx, obj, metav1.UpdateOptions{FieldManager: "testenv"})
		if apierrors.IsConflict(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("testenv: update PortForward %s/%s: %w", namespace, pod, err)
		}
		return nil
	}
}

// forwardsPort reports whether a kwok forward entry covers exactly port.
func forwardsPort(f any, port int) bool {
	m, ok := f.(map[string]any)
	if !ok {
		return false
	}
	ports, _, _ := unstructured.NestedSlice(m, "ports")
	if len(ports) != 1 {
		return false
	}
	switch p := ports[0].(type) {
	case int64:
		return p == int64(port)
	case float64:
		return p == float64(port)
	}
	return false
}

// ServiceAccountKubeconfig writes a kubeconfig that authenticates as the
// ServiceAccount namespace/saName (creating the account if needed) with a
// one-hour token from the TokenRequest API, and returns its path. RBAC
// tests use it: the account has no permissions until a test binds some.
func (e *Env) ServiceAccountKubeconfig(ctx context.Context, namespace, saName string) (string, error) {
	cs, err := kubernetes.NewForConfig(e.cfg)
	if err != nil {
		return "", err
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: saName, Namespace: namespace}}
	if _, err := cs.CoreV1().ServiceAccounts(namespace).Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return "", fmt.Errorf("testenv: create ServiceAccount %s/%s: %w", namespace, saName, err)
	}
	expiry := int64(time.Hour / time.Second)
	tr, err := cs.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, saName, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &expiry},
	}, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("testenv: token for %s/%s: %w", namespace, saName, err)
	}
	path := filepath.Join(e.Dir, fmt.Sprintf("sa-%s-%s.kubeconfig", namespace, saName))
	if err := writeKubeconfig(path, e.Host, e.CA, clientcmdapi.AuthInfo{Token: tr.Status.Token}); err != nil {
		return "", err
	}
	return path, nil
}

// AuditEvent is the part of an audit.k8s.io/v1 Event tests look at.
type AuditEvent struct {
	Verb       string `json:"verb"`
	RequestURI string `json:"requestURI"`
	UserAgent  string `json:"userAgent"`
	Stage      string `json:"stage"`
	User       struct {
		Username string   `json:"username"`
		Groups   []string `json:"groups"`
	} `json:"user"`
	ObjectRef *struct {
		Resource    string `json:"resource"`
		Namespace   string `json:"namespace"`
		Name        string `json:"name"`
		APIGroup    string `json:"apiGroup"`
		APIVersion  string `json:"apiVersion"`
		Subresource string `json:"subresource"`
	} `json:"objectRef"`
	ResponseStatus *struct {
		Code int `json:"code"`
	} `json:"responseStatus"`
	StageTimestamp time.Time `json:"stageTimestamp"`
	// RequestObject is logged for the authorizer questions only (see
	// auditPolicyYAML).
	RequestObject *struct {
		Spec struct {
			Namespace          string `json:"namespace"`
			ResourceAttributes *struct {
				Namespace string `json:"namespace"`
			} `json:"resourceAttributes"`
		} `json:"spec"`
	} `json:"requestObject"`
}

// ReviewNamespace is the namespace a SelfSubjectRulesReview or
// SelfSubjectAccessReview asked about ("" for any other request or a
// cluster-wide question).
func (ev AuditEvent) ReviewNamespace() string {
	if ev.RequestObject == nil {
		return ""
	}
	if ra := ev.RequestObject.Spec.ResourceAttributes; ra != nil {
		return ra.Namespace
	}
	return ev.RequestObject.Spec.Namespace
}

// AuditEvents reads the audit log. Tests count their own requests by
// filtering on namespace, user agent or user; the log holds every client's
// requests, including the controllers'.
func (e *Env) AuditEvents() ([]AuditEvent, error) {
	if e.AuditLogPath == "" {
		return nil, fmt.Errorf("testenv: this environment has no known audit log")
	}
	f, err := os.Open(e.AuditLogPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var events []AuditEvent
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		var ev AuditEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			// The API server may be writing the last line right now.
			continue
		}
		events = append(events, ev)
	}
	return events, sc.Err()
}
