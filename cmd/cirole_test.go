package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/dynamic"

	"github.com/neo4jctl/neo4jctl/e2e/testenv"
	"github.com/neo4jctl/neo4jctl/internal/iostreams"
)

func runCLIAs(kubeconfig string, args ...string) (int, string, string) {
	io, _, out, errOut := iostreams.Test()
	flags := genericclioptions.NewConfigFlags(true)
	flags.KubeConfig = &kubeconfig
	code := Run(context.Background(), &Factory{IO: io, KubeFlags: flags, Build: BuildInfo{Version: "test"}}, args)
	return code, out.String(), errOut.String()
}

// TestCIRoleReadOnlyPlanAndDrift: a ServiceAccount bound only to what
// `render --ci-role` prints can run plan (which falls back to the
// structural comparison and says so) and drift (which finds an
// out-of-band change); nothing in the role writes. The built-in view
// ClusterRole cannot: it may not read Roles, RoleBindings or Secrets, and
// plan says so and where the right role comes from.
func TestCIRoleReadOnlyPlanAndDrift(t *testing.T) {
	env := testenv.Shared(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ns := testenv.Namespace(t, env)
	file, _ := quickstart(t, ns)
	if code, _, stderr := runApplyCLI(t, env, "apply", "-f", file, "--auto-approve", "--skip-neo4j", "--wait=false"); code != ExitOK {
		t.Fatalf("apply as admin: exit %d\n%s", code, stderr)
	}

	code, rendered, stderr := runApplyCLI(t, env, "render", "--ci-role", "-f", file)
	if code != ExitOK {
		t.Fatalf("render --ci-role: exit %d\n%s", code, stderr)
	}
	dyn, err := dynamic.NewForConfig(env.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	resources := map[string]schema.GroupVersionResource{
		"ServiceAccount":     {Version: "v1", Resource: "serviceaccounts"},
		"Role":               {Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "roles"},
		"RoleBinding":        {Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "rolebindings"},
		"ClusterRole":        {Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"},
		"ClusterRoleBinding": {Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterrolebindings"},
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader([]byte(rendered)), 4096)
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		gvr, ok := resources[u.GetKind()]
		if !ok {
			t.Fatalf("render --ci-role printed a %s, want only RBAC and a ServiceAccount", u.GetKind())
		}
		if u.GetKind() == "Role" || u.GetKind() == "ClusterRole" {
			rules, _, _ := unstructured.NestedSlice(u.Object, "rules")
			for _, r := range rules {
				b, _ := json.Marshal(r)
				var rule rbacv1.PolicyRule
				_ = json.Unmarshal(b, &rule)
				for _, v := range rule.Verbs {
					if v != "get" && v != "list" && !(v == "create" && len(rule.Resources) == 1 && rule.Resources[0] == "pods/portforward") {
						t.Errorf("%s %s grants %s on %v: want reads only (and the port-forward tunnel)", u.GetKind(), u.GetName(), v, rule.Resources)
					}
				}
			}
		}
		ri := dyn.Resource(gvr).Namespace(u.GetNamespace())
		if u.GetNamespace() == "" {
			name := u.GetName()
			t.Cleanup(func() { _ = dyn.Resource(gvr).Delete(context.Background(), name, metav1.DeleteOptions{}) })
			_, err = dyn.Resource(gvr).Create(ctx, u, metav1.CreateOptions{})
		} else {
			_, err = ri.Create(ctx, u, metav1.CreateOptions{})
		}
		if err != nil {
			t.Fatalf("create %s %s: %v", u.GetKind(), u.GetName(), err)
		}
	}
	ci, err := env.ServiceAccountKubeconfig(ctx, ns, "neo4jctl-ci")
	if err != nil {
		t.Fatal(err)
	}

	// RBAC is cached by the authorizer briefly after a binding is made.
	var out string
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, out, stderr = runCLIAs(ci, "plan", "-f", file, "--skip-neo4j", "-o", "json")
		if code == ExitOK || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if code != ExitOK {
		t.Fatalf("plan with the CI role: exit %d\n%s\n%s", code, out, stderr)
	}
	var doc struct {
		KubeMode string   `json:"kube_mode"`
		Warnings []string `json:"warnings"`
		Steps    []any    `json:"steps"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("plan -o json: %v\n%s", err, out)
	}
	if w := strings.Join(doc.Warnings, "\n"); strings.Contains(w, "EndpointSlice") {
		t.Errorf("plan with the CI role cannot read the API server's endpoints for the NetworkPolicy: %s", w)
	}
	if doc.KubeMode != "structural" || len(doc.Steps) != 0 || !strings.Contains(strings.Join(doc.Warnings, "\n"), "Kubernetes compared structurally: the credentials may not dry-run apply") {
		t.Errorf("plan with the CI role: kube_mode %q, %d steps, warnings %q; want structural, none, and the reason", doc.KubeMode, len(doc.Steps), doc.Warnings)
	}
	if code, out, _ := runCLIAs(ci, "plan", "-f", file, "--skip-neo4j"); code != ExitOK || !strings.Contains(out, "compared structurally") {
		t.Errorf("plan (text) with the CI role: exit %d, want 0 and the mode said:\n%s", code, out)
	}

	cs, err := env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.PolicyV1().PodDisruptionBudgets(ns).Patch(ctx, "quickstart", types.MergePatchType, []byte(`{"spec":{"maxUnavailable":2}}`),
		metav1.PatchOptions{FieldManager: "kubectl-edit"}); err != nil {
		t.Fatal(err)
	}
	code, out, stderr = runCLIAs(ci, "drift", "-f", file, "--skip-neo4j", "-o", "json")
	if code != ExitChanges || !strings.Contains(out, "spec.maxUnavailable") || !strings.Contains(out, "kubectl-edit") {
		t.Errorf("drift with the CI role: exit %d, want %d and the PDB change by kubectl-edit:\n%s\n%s", code, ExitChanges, out, stderr)
	}

	// The built-in view ClusterRole, bound in the namespace.
	rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "viewer", Namespace: ns},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "view"},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "viewer", Namespace: ns}}}
	if _, err := cs.RbacV1().RoleBindings(ns).Create(ctx, rb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	viewer, err := env.ServiceAccountKubeconfig(ctx, ns, "viewer")
	if err != nil {
		t.Fatal(err)
	}
	code, out, stderr = runCLIAs(viewer, "plan", "-f", file, "--skip-neo4j")
	if code != ExitError || !strings.Contains(stderr, "forbidden") || !strings.Contains(stderr, "render --ci-role") {
		t.Errorf("plan with view: exit %d, want %d, the denial and the --ci-role hint:\n%s\n%s", code, ExitError, out, stderr)
	}
	t.Logf("plan with the built-in view role:\n%s", stderr)
}
