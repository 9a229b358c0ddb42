package testenv

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"
)

func TestMain(m *testing.M) { Main(m) }

// poll calls cond every 50 ms until it returns true or timeout passes.
func poll(t *testing.T, timeout time.Duration, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var lastErr error
	for {
		ok, err := cond()
		if ok {
			return
		}
		lastErr = err
		if time.Now().After(deadline) {
			t.Fatalf("%s: not true after %s (last error: %v)", what, timeout, lastErr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestSharedEnv(t *testing.T) {
	env := Shared(t)
	cs, err := env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()

	t.Run("nodes", func(t *testing.T) {
		nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		zones := map[string]string{}
		for _, n := range nodes.Items {
			zones[n.Name] = n.Labels["topology.kubernetes.io/zone"]
		}
		want := map[string]string{"kwok-node-0": "zone-a", "kwok-node-1": "zone-b", "kwok-node-2": "zone-c"}
		if diff := cmp.Diff(want, zones); diff != "" {
			t.Errorf("node zones mismatch (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"kwok-node-0", "kwok-node-1", "kwok-node-2"}, env.Nodes); diff != "" {
			t.Errorf("env.Nodes mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("statefulset with volume claims", func(t *testing.T) {
		ns := Namespace(t, env)
		begin := time.Now()
		if _, err := cs.AppsV1().StatefulSets(ns).Create(ctx, statefulSet("neo4j", 3), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		poll(t, 60*time.Second, "3 Pods Ready and 6 PVCs Bound", func() (bool, error) {
			sts, err := cs.AppsV1().StatefulSets(ns).Get(ctx, "neo4j", metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			if sts.Status.ReadyReplicas != 3 {
				return false, fmt.Errorf("readyReplicas %d", sts.Status.ReadyReplicas)
			}
			pvcs, err := cs.CoreV1().PersistentVolumeClaims(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				return false, err
			}
			bound := 0
			for _, c := range pvcs.Items {
				if c.Status.Phase == corev1.ClaimBound {
					bound++
				}
			}
			return bound == 6, fmt.Errorf("%d of %d PVCs Bound", bound, len(pvcs.Items))
		})
		t.Logf("StatefulSet ready %s after create", time.Since(begin).Round(time.Millisecond))
		pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pods.Items {
			if p.Spec.NodeName == "" || !strings.HasPrefix(p.Spec.NodeName, "kwok-node-") {
				t.Errorf("pod %s scheduled on %q, want a kwok node", p.Name, p.Spec.NodeName)
			}
		}
	})

	t.Run("CRDs server-side dry run", func(t *testing.T) {
		ns := Namespace(t, env)
		dc, err := dynamic.NewForConfig(env.RESTConfig())
		if err != nil {
			t.Fatal(err)
		}
		dry := metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}
		objs := []struct {
			gvr schema.GroupVersionResource
			obj map[string]any
		}{
			{
				gvr: schema.GroupVersionResource{Group: "monitoring.coreos.com", Version: "v1", Resource: "servicemonitors"},
				obj: map[string]any{
					"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
					"metadata": map[string]any{"name": "neo4j"},
					"spec": map[string]any{
						"selector":  map[string]any{"matchLabels": map[string]any{"app": "neo4j"}},
						"endpoints": []any{map[string]any{"port": "metrics", "interval": "30s"}},
					},
				},
			},
			{
				gvr: schema.GroupVersionResource{Group: "monitoring.coreos.com", Version: "v1", Resource: "prometheusrules"},
				obj: map[string]any{
					"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule",
					"metadata": map[string]any{"name": "neo4j"},
					"spec": map[string]any{"groups": []any{map[string]any{
						"name":  "neo4j",
						"rules": []any{map[string]any{"alert": "Neo4jDown", "expr": "up == 0"}},
					}}},
				},
			},
			{
				gvr: schema.GroupVersionResource{Group: "cert-manager.io", Version: "v1", Resource: "certificates"},
				obj: map[string]any{
					"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
					"metadata": map[string]any{"name": "neo4j"},
					"spec": map[string]any{
						"secretName": "neo4j-tls",
						"dnsNames":   []any{"neo4j.example.svc"},
						"issuerRef":  map[string]any{"name": "ca", "kind": "Issuer"},
					},
				},
			},
		}
		for _, o := range objs {
			u := &unstructured.Unstructured{Object: o.obj}
			if _, err := dc.Resource(o.gvr).Namespace(ns).Create(ctx, u, dry); err != nil {
				t.Errorf("dry-run create %s: %v", u.GetKind(), err)
			}
		}
		// The schemas are the real ones: a Certificate without the
		// required issuerRef is rejected.
		bad := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
			"metadata": map[string]any{"name": "bad"},
			"spec":     map[string]any{"secretName": "x"},
		}}
		_, err = dc.Resource(objs[2].gvr).Namespace(ns).Create(ctx, bad, dry)
		if !apierrors.IsInvalid(err) {
			t.Errorf("dry-run create of a Certificate without issuerRef: got %v, want Invalid", err)
		}
	})

	t.Run("service account RBAC", func(t *testing.T) {
		ns := Namespace(t, env)
		path, err := env.ServiceAccountKubeconfig(ctx, ns, "reader")
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := clientcmd.BuildConfigFromFlags("", path)
		if err != nil {
			t.Fatal(err)
		}
		sacs, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			t.Fatal(err)
		}
		_, err = sacs.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{})
		if !apierrors.IsForbidden(err) {
			t.Fatalf("list configmaps without a role: got %v, want Forbidden", err)
		}
		if _, err := cs.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{
			ObjectMeta: metav1.ObjectMeta{Name: "reader"},
			Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"list"}}},
		}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := cs.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "reader"},
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "reader"},
			Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "reader", Namespace: ns}},
		}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		// The authorizer's informer sees the binding within milliseconds.
		poll(t, 10*time.Second, "list allowed after RoleBinding", func() (bool, error) {
			_, err := sacs.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{})
			return err == nil, err
		})
		_, err = sacs.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{})
		if !apierrors.IsForbidden(err) {
			t.Errorf("list secrets with a configmaps-only role: got %v, want Forbidden", err)
		}
	})

	t.Run("audit log", func(t *testing.T) {
		ns := Namespace(t, env)
		if _, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "audited"}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		events, err := env.AuditEvents()
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, ev := range events {
			if ev.Verb == "create" && ev.ObjectRef != nil && ev.ObjectRef.Namespace == ns &&
				ev.ObjectRef.Resource == "configmaps" && ev.ObjectRef.Name == "audited" &&
				ev.ResponseStatus != nil && ev.ResponseStatus.Code == http.StatusCreated {
				n++
			}
		}
		if n != 1 {
			t.Errorf("audit events for the configmap create: %d, want 1 (of %d events)", n, len(events))
		}
	})

	t.Run("port-forward to a pod reaches a local listener", func(t *testing.T) {
		ns := Namespace(t, env)
		echoPort := echoServer(t)
		if _, err := cs.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "bolt"},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{
				Name: "neo4j", Image: "neo4j:5",
				Ports: []corev1.ContainerPort{{Name: "bolt", ContainerPort: 7687}},
			}}},
		}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		poll(t, 30*time.Second, "pod Ready", func() (bool, error) {
			p, err := cs.CoreV1().Pods(ns).Get(ctx, "bolt", metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			for _, c := range p.Status.Conditions {
				if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
					return true, nil
				}
			}
			return false, fmt.Errorf("phase %s", p.Status.Phase)
		})
		if err := env.PortForward(ctx, ns, "bolt", 7687, echoPort); err != nil {
			t.Fatal(err)
		}
		begin := time.Now()
		// kwok picks the PortForward object up asynchronously.
		poll(t, 10*time.Second, "echo through port-forward", func() (bool, error) {
			got, err := echoThroughPortForward(env, ns, "bolt", 7687, []byte("hello bolt"))
			return err == nil && string(got) == "hello bolt", fmt.Errorf("got %q, err %v", got, err)
		})
		t.Logf("port-forward working %s after PortForward", time.Since(begin).Round(time.Millisecond))
	})
}

// statefulSet is a Neo4j-like StatefulSet with two claim templates.
func statefulSet(name string, replicas int32) *appsv1.StatefulSet {
	labels := map[string]string{"app": name}
	sc := StorageClassName
	claim := func(n string) corev1.PersistentVolumeClaim {
		return corev1.PersistentVolumeClaim{
			ObjectMeta: metav1.ObjectMeta{Name: n},
			Spec: corev1.PersistentVolumeClaimSpec{
				AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				StorageClassName: &sc,
				Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
			},
		}
	}
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.StatefulSetSpec{
			Replicas:            &replicas,
			ServiceName:         name,
			PodManagementPolicy: appsv1.ParallelPodManagement,
			Selector:            &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "neo4j", Image: "neo4j:5",
					VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/data"}, {Name: "logs", MountPath: "/logs"}},
				}}},
			},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{claim("data"), claim("logs")},
		},
	}
}

// echoServer listens on 127.0.0.1 and echoes every connection.
func echoServer(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

// echoThroughPortForward opens a client-go SPDY port-forward to the Pod
// (client → API server → kwok's kubelet endpoint → the PortForward target),
// sends msg and reads the same number of bytes back.
func echoThroughPortForward(env *Env, ns, pod string, port int, msg []byte) ([]byte, error) {
	cfg := env.RESTConfig()
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	rt, upgrader, err := spdy.RoundTripperFor(cfg)
	if err != nil {
		return nil, err
	}
	u := cs.CoreV1().RESTClient().Post().Resource("pods").Namespace(ns).Name(pod).SubResource("portforward").URL()
	dialer := spdy.NewDialer(upgrader, &http.Client{Transport: rt}, http.MethodPost, u)
	stop, ready := make(chan struct{}), make(chan struct{})
	defer close(stop)
	var out, errOut bytes.Buffer
	fw, err := portforward.NewOnAddresses(dialer, []string{"127.0.0.1"}, []string{fmt.Sprintf("0:%d", port)}, stop, ready, &out, &errOut)
	if err != nil {
		return nil, err
	}
	fwErr := make(chan error, 1)
	go func() { fwErr <- fw.ForwardPorts() }()
	select {
	case <-ready:
	case err := <-fwErr:
		return nil, fmt.Errorf("forward: %v", err)
	case <-time.After(5 * time.Second):
		return nil, fmt.Errorf("port-forward not ready")
	}
	ports, err := fw.GetPorts()
	if err != nil {
		return nil, err
	}
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", ports[0].Local), 2*time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := c.Write(msg); err != nil {
		return nil, err
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		return nil, fmt.Errorf("read: %v (%s)", err, strings.TrimSpace(errOut.String()))
	}
	return got, nil
}

// TestStartStop starts an environment of its own (beside the shared one
// when the whole package runs) and checks Stop ends every component and
// removes the volume directories and the environment directory.
func TestStartStop(t *testing.T) {
	SkipWithoutBinaries(t)
	ctx := t.Context()
	begin := time.Now()
	env, err := Start(ctx, Options{Nodes: 1, Logf: t.Logf, Build: os.Getenv(EnvBuild) == "1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("started in %s", time.Since(begin).Round(time.Millisecond))
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = env.Stop()
		}
	})
	cs, err := env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	sc := StorageClassName
	if _, err := cs.CoreV1().PersistentVolumeClaims("default").Create(ctx, &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "data"},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			StorageClassName: &sc,
			Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
		},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var hostDir string
	poll(t, 30*time.Second, "PVC bound", func() (bool, error) {
		pvs, err := cs.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{})
		if err != nil || len(pvs.Items) != 1 {
			return false, err
		}
		hostDir = pvs.Items[0].Spec.HostPath.Path
		return true, nil
	})
	if _, err := os.Stat(hostDir); err != nil {
		t.Fatalf("provisioned directory: %v", err)
	}
	// The restart runs here, on this test's own environment: restarting the
	// shared one would disturb other packages attached to it.
	begin = time.Now()
	if err := env.RestartAPIServer(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("API server restarted in %s", time.Since(begin).Round(time.Millisecond))
	if _, err := cs.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{}); err != nil {
		t.Errorf("list after restart: %v", err)
	}
	running := env.Running()
	if len(running) != 5 {
		t.Errorf("running components: %v, want 5", running)
	}
	var rss int64
	for _, b := range env.MemoryRSS() {
		rss += b
	}
	t.Logf("memory: %d MiB RSS in total", rss>>20)

	begin = time.Now()
	if err := env.Stop(); err != nil {
		t.Fatal(err)
	}
	stopped = true
	t.Logf("stopped in %s", time.Since(begin).Round(time.Millisecond))
	if r := env.Running(); len(r) != 0 {
		t.Errorf("still running after Stop: %v", r)
	}
	if _, err := os.Stat(hostDir); !os.IsNotExist(err) {
		t.Errorf("volume directory %s after Stop: %v, want it removed", hostDir, err)
	}
	if _, err := os.Stat(filepath.Join(env.Dir, StateFile)); !os.IsNotExist(err) {
		t.Errorf("env dir %s after Stop: %v, want it removed", env.Dir, err)
	}
}
