package watch

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	dwatch "github.com/neo4jctl/neo4jctl/drift/watch"
)

// Options say what to render. Zero fields take their defaults.
type Options struct {
	// Name of every object (default neo4jctl-watch).
	Name string
	// Namespace watch runs in; it watches the clusters of this namespace.
	Namespace string
	// Image is the neo4jctl image (default ghcr.io/neo4jctl/neo4jctl:latest).
	Image string
	// Mode is warn (default) or enforce; enforce needs more verbs.
	Mode dwatch.Mode
	// Replicas (default 2: leader election makes the second a warm standby).
	Replicas int32
	// Selector picks the ConfigMaps holding cluster files.
	Selector string
	// Interval is --interval (default 60 s).
	Interval time.Duration
	// SecretNames are the Secrets the watched cluster files reference
	// (spec.auth.secretRef): `get` is limited to them. Empty allows `get`
	// on every Secret of the namespace, which a Role cannot avoid when the
	// names are not known when rendering.
	SecretNames []string
	// ServiceMonitors and Certificates add the verbs on those CRD kinds,
	// for cluster files that render them (spec.monitoring, spec.tls).
	ServiceMonitors bool
	Certificates    bool
	// AllowIrreversible renders --allow-irreversible and the delete verbs
	// enforce then uses.
	AllowIrreversible bool
	// Resources of the container (default requests 50m/64Mi, limit 256Mi).
	Resources *corev1.ResourceRequirements
	// MetricsPort (default 9090).
	MetricsPort int32
}

func (o Options) withDefaults() Options {
	if o.Name == "" {
		o.Name = "neo4jctl-watch"
	}
	if o.Image == "" {
		o.Image = "ghcr.io/neo4jctl/neo4jctl:latest"
	}
	if o.Mode == "" {
		o.Mode = dwatch.ModeWarn
	}
	if o.Replicas == 0 {
		o.Replicas = 2
	}
	if o.Selector == "" {
		o.Selector = dwatch.DefaultConfigMapSelector
	}
	if o.Interval == 0 {
		o.Interval = 60 * time.Second
	}
	if o.MetricsPort == 0 {
		o.MetricsPort = 9090
	}
	if o.Resources == nil {
		o.Resources = &corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("50m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
			Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")},
		}
	}
	return o
}

// Render returns the objects, in apply order: ServiceAccount, Role,
// RoleBinding, dashboard ConfigMap, Service, Deployment, ServiceMonitor,
// PrometheusRule.
func Render(opts Options) ([]*unstructured.Unstructured, error) {
	o := opts.withDefaults()
	if o.Namespace == "" {
		return nil, fmt.Errorf("watch manifests: a namespace is required")
	}
	if o.Mode != dwatch.ModeWarn && o.Mode != dwatch.ModeEnforce {
		return nil, fmt.Errorf("watch manifests: mode must be warn or enforce, got %q", o.Mode)
	}
	labels := map[string]string{
		"app.kubernetes.io/name": "neo4jctl-watch", "app.kubernetes.io/instance": o.Name,
		"app.kubernetes.io/managed-by": "neo4jctl",
	}
	meta := func(name string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: name, Namespace: o.Namespace, Labels: copyMap(labels)}
	}
	var typed []runtime.Object
	typed = append(typed,
		&corev1.ServiceAccount{TypeMeta: tm("v1", "ServiceAccount"), ObjectMeta: meta(o.Name), AutomountServiceAccountToken: ptr.To(true)},
		&rbacv1.Role{TypeMeta: tm("rbac.authorization.k8s.io/v1", "Role"), ObjectMeta: meta(o.Name), Rules: Rules(o)},
		&rbacv1.RoleBinding{
			TypeMeta: tm("rbac.authorization.k8s.io/v1", "RoleBinding"), ObjectMeta: meta(o.Name),
			RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: o.Name},
			Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: o.Name, Namespace: o.Namespace}},
		},
	)
	dash := meta(o.Name + "-dashboard")
	dash.Labels["grafana_dashboard"] = "1"
	typed = append(typed, &corev1.ConfigMap{TypeMeta: tm("v1", "ConfigMap"), ObjectMeta: dash, Data: map[string]string{"neo4jctl-watch.json": Dashboard()}})
	typed = append(typed, &corev1.Service{
		TypeMeta: tm("v1", "Service"), ObjectMeta: meta(o.Name),
		Spec: corev1.ServiceSpec{Selector: selectorLabels(o), Ports: []corev1.ServicePort{{Name: "metrics", Port: o.MetricsPort, TargetPort: intstr.FromString("metrics")}}},
	})
	typed = append(typed, deployment(o, meta(o.Name)))

	var out []*unstructured.Unstructured
	for _, t := range typed {
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(t)
		if err != nil {
			return nil, err
		}
		u := &unstructured.Unstructured{Object: m}
		unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
		unstructured.RemoveNestedField(u.Object, "status")
		unstructured.RemoveNestedField(u.Object, "spec", "template", "metadata", "creationTimestamp")
		out = append(out, u)
	}
	out = append(out, serviceMonitor(o, labels), prometheusRule(o, labels))
	return out, nil
}

func tm(apiVersion, kind string) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: apiVersion, Kind: kind}
}

func selectorLabels(o Options) map[string]string {
	return map[string]string{"app.kubernetes.io/name": "neo4jctl-watch", "app.kubernetes.io/instance": o.Name}
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Rules are exactly the permissions watch uses in mode o.Mode, each
// traced to the code that needs it. No wildcards; a test removes each verb
// in turn and sees watch fail.
func Rules(opts Options) []rbacv1.PolicyRule {
	o := opts.withDefaults()
	// Every kind neo4jctl renders: informers (list, watch), Observe's
	// forced server-side-apply dry run (patch), the inventory's member
	// listing (list: live objects and orphans), and a GET of a rendered
	// object that exists without the ApplySet label (adopted). Enforce
	// applies with the same patch verb.
	rendered := []string{"get", "list", "watch", "patch"}
	if o.AllowIrreversible {
		rendered = append(rendered, "delete")
	}
	rules := []rbacv1.PolicyRule{
		// configmaps: also the inventory (get, patch) and the cluster-file
		// ConfigMaps (list, watch).
		{APIGroups: []string{""}, Resources: []string{"configmaps", "serviceaccounts", "services"}, Verbs: rendered},
		{APIGroups: []string{"apps"}, Resources: []string{"statefulsets"}, Verbs: rendered},
		{APIGroups: []string{"policy"}, Resources: []string{"poddisruptionbudgets"}, Verbs: rendered},
		{APIGroups: []string{"networking.k8s.io"}, Resources: []string{"networkpolicies"}, Verbs: rendered},
		// The discovery Role and its binding: patching them is allowed only
		// because this Role already holds what they grant (get, list,
		// watch on services) — no escalate or bind verb.
		{APIGroups: []string{"rbac.authorization.k8s.io"}, Resources: []string{"rolebindings", "roles"}, Verbs: rendered},
		// Events with the drift summary; created once per distinct drift,
		// never patched.
		{APIGroups: []string{""}, Resources: []string{"events"}, Verbs: []string{"create"}},
	}
	// Observe lists the cluster's Pods (server readiness); enforce's
	// rollout waits also watch them.
	podVerbs := []string{"list"}
	if o.Mode == dwatch.ModeEnforce {
		podVerbs = []string{"list", "watch"}
	}
	rules = append(rules, rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: podVerbs})
	// The Neo4j password (spec.auth.secretRef), read when connecting.
	secrets := rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get"}}
	if len(o.SecretNames) > 0 {
		names := append([]string(nil), o.SecretNames...)
		sort.Strings(names)
		secrets.ResourceNames = names
	}
	rules = append(rules, secrets)
	// Leader election (get, create, update); enforce's apply lock also
	// deletes its Lease when done, as apply does.
	leaseVerbs := []string{"get", "create", "update"}
	if o.Mode == dwatch.ModeEnforce {
		leaseVerbs = append(leaseVerbs, "delete")
	}
	rules = append(rules, rbacv1.PolicyRule{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: leaseVerbs})
	if o.ServiceMonitors {
		rules = append(rules, rbacv1.PolicyRule{APIGroups: []string{"monitoring.coreos.com"}, Resources: []string{"servicemonitors"}, Verbs: rendered})
	}
	if o.Certificates {
		rules = append(rules, rbacv1.PolicyRule{APIGroups: []string{"cert-manager.io"}, Resources: []string{"certificates"}, Verbs: rendered})
	}
	return rules
}

// Args are the container's arguments.
func Args(o Options) []string {
	o = o.withDefaults()
	args := []string{"watch", "--from-configmaps", o.Selector, "--namespace", o.Namespace,
		"--mode", string(o.Mode), "--interval", o.Interval.String(), "-o", "json",
		"--metrics-addr", fmt.Sprintf(":%d", o.MetricsPort), "--leader-elect"}
	if o.AllowIrreversible {
		args = append(args, "--allow-irreversible")
	}
	return args
}

func deployment(o Options, meta metav1.ObjectMeta) *appsv1.Deployment {
	probe := func(path string, period int32) *corev1.Probe {
		return &corev1.Probe{
			ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromString("metrics")}},
			PeriodSeconds: period, TimeoutSeconds: 2, FailureThreshold: 3,
		}
	}
	podLabels := selectorLabels(o)
	for k, v := range meta.Labels {
		podLabels[k] = v
	}
	return &appsv1.Deployment{
		TypeMeta: tm("apps/v1", "Deployment"), ObjectMeta: meta,
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(o.Replicas),
			Selector: &metav1.LabelSelector{MatchLabels: selectorLabels(o)},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: podLabels},
				Spec: corev1.PodSpec{
					ServiceAccountName: o.Name,
					// Long enough to finish a revert step and release both
					// Leases; watch exits well within it on SIGTERM.
					TerminationGracePeriodSeconds: ptr.To(int64(30)),
					SecurityContext: &corev1.PodSecurityContext{
						RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To(int64(65532)), RunAsGroup: ptr.To(int64(65532)),
						FSGroup: ptr.To(int64(65532)), SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
					},
					Containers: []corev1.Container{{
						Name: "watch", Image: o.Image, Args: Args(o),
						Ports: []corev1.ContainerPort{{Name: "metrics", ContainerPort: o.MetricsPort}},
						Env: []corev1.EnvVar{
							{Name: "POD_NAMESPACE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}},
							{Name: "NEO4JCTL_SERVICE_ACCOUNT", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.serviceAccountName"}}},
						},
						Resources:      *o.Resources,
						LivenessProbe:  probe("/healthz", 20),
						ReadinessProbe: probe("/readyz", 10),
						SecurityContext: &corev1.SecurityContext{
							AllowPrivilegeEscalation: ptr.To(false), ReadOnlyRootFilesystem: ptr.To(true),
							RunAsNonRoot: ptr.To(true), Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
							SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
						},
						VolumeMounts: []corev1.VolumeMount{{Name: "tmp", MountPath: "/tmp"}},
					}},
					// The Neo4j driver and client-go may write temporary
					// files; the root filesystem is read-only.
					Volumes: []corev1.Volume{{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{SizeLimit: ptr.To(resource.MustParse("16Mi"))}}}},
				},
			},
		},
	}
}

func serviceMonitor(o Options, labels map[string]string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
		"metadata": map[string]any{"name": o.Name, "namespace": o.Namespace, "labels": anyMap(labels)},
		"spec": map[string]any{
			"selector":  map[string]any{"matchLabels": anyMap(selectorLabels(o))},
			"endpoints": []any{map[string]any{"port": "metrics", "path": "/metrics", "interval": "30s"}},
		},
	}}
}

// Alert names in the PrometheusRule.
const (
	AlertDrift            = "Neo4jctlDriftPresent"
	AlertReconcileFail    = "Neo4jctlReconcileFailing"
	AlertNeo4jUnreachable = "Neo4jctlNeo4jUnreachable"
	AlertNoLeader         = "Neo4jctlWatchNoLeader"
)

func prometheusRule(o Options, labels map[string]string) *unstructured.Unstructured {
	rule := func(alert, expr, dur, severity, summary string) any {
		return map[string]any{
			"alert": alert, "expr": expr, "for": dur,
			"labels":      map[string]any{"severity": severity},
			"annotations": map[string]any{"summary": summary},
		}
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule",
		"metadata": map[string]any{"name": o.Name, "namespace": o.Namespace, "labels": anyMap(labels)},
		"spec": map[string]any{"groups": []any{map[string]any{
			"name": "neo4jctl-watch",
			"rules": []any{
				rule(AlertDrift, dwatch.MetricDriftObjects+" > 0", "10m", "warning",
					"Neo4j cluster {{ $labels.cluster }} has drifted from its cluster file ({{ $value }} addresses); run neo4jctl drift to see what changed."),
				rule(AlertReconcileFail, "increase("+dwatch.MetricReconcileErrors+"[15m]) > 0 and on(cluster) increase("+dwatch.MetricReconcileDuration+"_count[15m]) == 0", "15m", "warning",
					"neo4jctl watch cannot reconcile {{ $labels.cluster }}: see the watch logs and the cluster's Events."),
				rule(AlertNeo4jUnreachable, dwatch.MetricNeo4jReachable+" == 0", "5m", "critical",
					"neo4jctl watch cannot reach Neo4j of {{ $labels.cluster }}; see neo4jctl_circuit_state and the watch logs."),
				rule(AlertNoLeader, "max("+dwatch.MetricLeader+") < 1", "5m", "warning",
					"No neo4jctl watch replica holds the leader Lease: nothing is being reconciled."),
			},
		}}},
	}}
}

func anyMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Dashboard is the Grafana dashboard JSON (Prometheus data source chosen
// by the ${datasource} variable).
func Dashboard() string {
	panel := func(id int, title, expr, legend, unit string, x, y int) map[string]any {
		return map[string]any{
			"id": id, "title": title, "type": "timeseries", "datasource": map[string]any{"type": "prometheus", "uid": "${datasource}"},
			"gridPos":     map[string]any{"h": 8, "w": 12, "x": x, "y": y},
			"fieldConfig": map[string]any{"defaults": map[string]any{"unit": unit}, "overrides": []any{}},
			"targets":     []any{map[string]any{"expr": expr, "legendFormat": legend, "refId": "A"}},
		}
	}
	d := map[string]any{
		"title": "neo4jctl watch", "uid": "neo4jctl-watch", "schemaVersion": 39, "version": 1,
		"tags": []any{"neo4j", "neo4jctl"}, "time": map[string]any{"from": "now-6h", "to": "now"},
		"templating": map[string]any{"list": []any{map[string]any{"name": "datasource", "type": "datasource", "query": "prometheus"}}},
		"panels": []any{
			panel(1, "Drifted addresses", dwatch.MetricDriftObjects, "{{cluster}}", "short", 0, 0),
			panel(2, "Reconcile duration (p95)", "histogram_quantile(0.95, sum by (le, cluster) (rate("+dwatch.MetricReconcileDuration+"_bucket[5m])))", "{{cluster}}", "s", 12, 0),
			panel(3, "Enforce applies", "sum by (cluster, result) (increase("+dwatch.MetricApplyTotal+"[1h]))", "{{cluster}} {{result}}", "short", 0, 8),
			panel(4, "Neo4j reachable", dwatch.MetricNeo4jReachable, "{{cluster}}", "bool", 12, 8),
			panel(5, "Circuit breaker (0 closed, 1 half-open, 2 open)", dwatch.MetricCircuitState, "{{cluster}}", "short", 0, 16),
			panel(6, "Leader", dwatch.MetricLeader, "{{pod}}", "bool", 12, 16),
			panel(7, "Steps waiting for a person", dwatch.MetricHeldSteps, "{{cluster}}", "short", 0, 24),
			panel(8, "Reconcile errors", "increase("+dwatch.MetricReconcileErrors+"[15m])", "{{cluster}}", "short", 12, 24),
		},
	}
	b, _ := json.MarshalIndent(d, "", "  ")
	return string(b)
}

// hasWildcard reports a "*" in any rule (tests, and a guard for editors).
func hasWildcard(rules []rbacv1.PolicyRule) bool {
	for _, r := range rules {
		for _, l := range [][]string{r.APIGroups, r.Resources, r.Verbs, r.ResourceNames} {
			for _, v := range l {
				if strings.Contains(v, "*") {
					return true
				}
			}
		}
	}
	return false
}
