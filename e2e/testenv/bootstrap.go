package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"
)

// kwokNodeAnnotation marks the Nodes kwok manages.
const kwokNodeAnnotation = "kwok.x-k8s.io/node"

// StorageClassName is the default StorageClass every environment has; it
// provisions host-path volumes with immediate binding.
const StorageClassName = "standard"

// crdGVR addresses CustomResourceDefinitions through the dynamic client,
// which avoids a dependency on k8s.io/apiextensions-apiserver.
var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// crdFiles are the CRD definitions installed in every environment, relative
// to the asset root next to bin/ (build.sh copies them from the modules).
var crdFiles = []string{
	// kwok's first: Start waits for just these before starting kwok.
	"kwok/crd/bases/kwok.x-k8s.io_portforwards.yaml",
	"kwok/crd/bases/kwok.x-k8s.io_clusterportforwards.yaml",
	"crds/monitoring.coreos.com_servicemonitors.yaml",
	"crds/monitoring.coreos.com_podmonitors.yaml",
	"crds/monitoring.coreos.com_prometheusrules.yaml",
	"crds/cert-manager.io_certificates.yaml",
	"crds/cert-manager.io_certificaterequests.yaml",
	"crds/cert-manager.io_issuers.yaml",
	"crds/cert-manager.io_clusterissuers.yaml",
}

// kwokCRDCount is how many leading crdFiles entries are kwok's.
const kwokCRDCount = 2

// kwokStageFiles are kwok's "fast" stages (what its kustomize/stage/fast
// bundles): Nodes become Ready with a heartbeat lease, Pods become Ready at
// once, finished Pods complete and deleted Pods go away.
var kwokStageFiles = []string{
	"node/fast/node-initialize.yaml",
	"node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
	"pod/fast/pod-ready.yaml",
	"pod/fast/pod-complete.yaml",
	"pod/fast/pod-delete.yaml",
}

// writeKwokConfig concatenates the stage files into kwok's --config file.
// kwok refuses to start without stages.
func writeKwokConfig(path, stageDir string) error {
	var buf bytes.Buffer
	for _, f := range kwokStageFiles {
		b, err := os.ReadFile(filepath.Join(stageDir, f))
		if err != nil {
			return fmt.Errorf("testenv: kwok stage: %w", err)
		}
		buf.WriteString("---\n")
		buf.Write(bytes.TrimPrefix(b, []byte("---\n")))
		if !bytes.HasSuffix(b, []byte("\n")) {
			buf.WriteByte('\n')
		}
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// splitYAMLDocuments splits a multi-document YAML stream on "---" lines.
func splitYAMLDocuments(b []byte) [][]byte {
	var docs [][]byte
	for _, d := range regexp.MustCompile(`(?m)^---[ \t]*$`).Split(string(b), -1) {
		if strings.TrimSpace(d) != "" {
			docs = append(docs, []byte(d))
		}
	}
	return docs
}

// createCRDs creates the CRDs in crdFiles and returns their names in file
// order; waitEstablished then waits until their APIs are served.
func (e *Env) createCRDs(ctx context.Context, assetRoot string) ([]string, error) {
	dc, err := dynamic.NewForConfig(e.cfg)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, f := range crdFiles {
		b, err := os.ReadFile(filepath.Join(assetRoot, f))
		if err != nil {
			return nil, fmt.Errorf("testenv: CRD: %w (run e2e/testenv/build.sh)", err)
		}
		for _, doc := range splitYAMLDocuments(b) {
			var obj unstructured.Unstructured
			if err := yaml.Unmarshal(doc, &obj.Object); err != nil {
				return nil, fmt.Errorf("testenv: %s: %w", f, err)
			}
			if obj.GetKind() != "CustomResourceDefinition" {
				continue
			}
			if _, err := dc.Resource(crdGVR).Create(ctx, &obj, metav1.CreateOptions{FieldManager: "testenv"}); err != nil && !apierrors.IsAlreadyExists(err) {
				return nil, fmt.Errorf("testenv: create CRD %s: %w", obj.GetName(), err)
			}
			names = append(names, obj.GetName())
		}
	}
	return names, nil
}

// waitEstablished waits until the named CRDs are Established.
func (e *Env) waitEstablished(ctx context.Context, names []string) error {
	dc, err := dynamic.NewForConfig(e.cfg)
	if err != nil {
		return err
	}
	return e.waitFor(ctx, compAPIServer, 60*time.Second, func(ctx context.Context) (bool, error) {
		for _, n := range names {
			obj, err := dc.Resource(crdGVR).Get(ctx, n, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			if !hasCondition(obj.Object, "Established") {
				return false, fmt.Errorf("CRD %s not Established", n)
			}
		}
		return true, nil
	})
}

// hasCondition reports whether status.conditions has type=cond, status=True.
func hasCondition(obj map[string]any, cond string) bool {
	conds, _, _ := unstructured.NestedSlice(obj, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if ok && m["type"] == cond && m["status"] == "True" {
			return true
		}
	}
	return false
}

// nodeName is the name of fake Node i.
func nodeName(i int) string { return fmt.Sprintf("kwok-node-%d", i) }

// zoneName spreads Nodes over zone-a, zone-b, zone-c, … so topology spread
// constraints and zone anti-affinity have something to spread over.
func zoneName(i int) string { return "zone-" + string(rune('a'+i%26)) }

// bootstrapObjects creates the fake Nodes and the default StorageClass and
// waits for kwok to report the Nodes Ready.
func (e *Env) bootstrapObjects(ctx context.Context, cs kubernetes.Interface, n int) error {
	for i := range n {
		name := nodeName(i)
		node := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{
				Name:        name,
				Annotations: map[string]string{kwokNodeAnnotation: "fake", "node.alpha.kubernetes.io/ttl": "0"},
				Labels: map[string]string{
					"kubernetes.io/hostname":      name,
					"kubernetes.io/os":            "linux",
					"kubernetes.io/arch":          "amd64",
					"topology.kubernetes.io/zone": zoneName(i),
					"type":                        "kwok",
				},
			},
		}
		if _, err := cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("testenv: create node %s: %w", name, err)
		}
		e.Nodes = append(e.Nodes, name)
	}
	immediate := storagev1.VolumeBindingImmediate
	sc := &storagev1.StorageClass{
		ObjectMeta: metav1.ObjectMeta{
			Name:        StorageClassName,
			Annotations: map[string]string{"storageclass.kubernetes.io/is-default-class": "true"},
		},
		Provisioner:       "kubernetes.io/host-path",
		VolumeBindingMode: &immediate,
	}
	if _, err := cs.StorageV1().StorageClasses().Create(ctx, sc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("testenv: create StorageClass: %w", err)
	}
	return e.waitFor(ctx, compKwok, 60*time.Second, func(ctx context.Context) (bool, error) {
		for _, name := range e.Nodes {
			node, err := cs.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			ready := false
			for _, c := range node.Status.Conditions {
				if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
					ready = true
				}
			}
			if !ready {
				return false, fmt.Errorf("node %s not Ready", name)
			}
		}
		return true, nil
	})
}

// hostPathPrefix is where kube-controller-manager's host-path provisioner
// creates volume directories (fixed in its source, shared by all
// environments on the machine).
const hostPathPrefix = "/tmp/hostpath_pv/"

// removeHostPathVolumes deletes the directories of this environment's
// PersistentVolumes — exactly those, never the whole shared parent, which
// other environments use at the same time.
func (e *Env) removeHostPathVolumes() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cs, err := kubernetes.NewForConfig(e.cfg)
	if err != nil {
		return err
	}
	pvs, err := cs.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("testenv: list PersistentVolumes: %w", err)
	}
	var errs []error
	for _, dir := range hostPathDirs(pvs.Items) {
		if err := os.RemoveAll(dir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// hostPathDirs returns the provisioner-made directories of pvs, sorted.
// Paths outside hostPathPrefix (a test's hand-made PV) are left alone.
func hostPathDirs(pvs []corev1.PersistentVolume) []string {
	var dirs []string
	for _, pv := range pvs {
		hp := pv.Spec.HostPath
		if hp == nil {
			continue
		}
		p := filepath.Clean(hp.Path)
		if strings.HasPrefix(p, hostPathPrefix) && !strings.Contains(strings.TrimPrefix(p, hostPathPrefix), "/") {
			dirs = append(dirs, p)
		}
	}
	sort.Strings(dirs)
	return dirs
}
