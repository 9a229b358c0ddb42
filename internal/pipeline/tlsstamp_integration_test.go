package pipeline

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/neo4jctl/neo4jctl/e2e/harness"
	"github.com/neo4jctl/neo4jctl/e2e/neo4jsim"
	"github.com/neo4jctl/neo4jctl/e2e/testenv"
	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/manifests"
	"github.com/neo4jctl/neo4jctl/plan"
)

// TestTLSStampLifecycle follows the certificate stamp of a 5.26 cluster
// with spec.tls on the real API server (Kubernetes plane only):
//
//  1. created by a neo4jctl that did not stamp (its offline render applied
//     as is): plan records the baseline on the StatefulSet and rolls
//     nothing, the Pod template gets no stamp;
//  2. once recorded, nothing about the StatefulSet is planned;
//  3. the Secret's certificate replaced: plan stamps the Pod template and
//     rolls every server, highest ordinal first, naming the renewal;
//  4. a client that read the old certificate (a watch's cache) and then
//     meets a StatefulSet recording the new one (another neo4jctl applied
//     the renewal) reads the Secret again: it stamps the new fingerprint
//     and never takes the stamp back.
func TestTLSStampLifecycle(t *testing.T) {
	env := testenv.Shared(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ns := testenv.Namespace(t, env)
	b, err := os.ReadFile("../../examples/quickstart.yaml")
	if err != nil {
		t.Fatal(err)
	}
	data := strings.Replace(strings.Replace(string(b), "namespace: neo4j", "namespace: "+ns, 1),
		"  servers: 3\n", "  servers: 3\n  tls:\n    secretName: quickstart-tls\n    scopes: [bolt]\n", 1)
	load := func() *Target {
		t.Helper()
		tg, err := LoadData("quickstart.yaml", []byte(data), "")
		if err != nil {
			t.Fatal(err)
		}
		return tg
	}
	newClient := func() *kube.Client {
		t.Helper()
		kc, err := kube.NewForConfig(env.RESTConfig(), kube.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return kc
	}
	if err := harness.PrepareNamespace(ctx, env, load().Cluster, ns, "stamp-password"); err != nil {
		t.Fatal(err)
	}
	cs, err := env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	pki1, err := neo4jsim.NewTestPKI("*.quickstart-headless." + ns + ".svc.cluster.local")
	if err != nil {
		t.Fatal(err)
	}
	pki2, err := neo4jsim.NewTestPKI("*.quickstart-headless." + ns + ".svc.cluster.local")
	if err != nil {
		t.Fatal(err)
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "quickstart-tls", Namespace: ns},
		Type:       corev1.SecretTypeTLS,
		Data:       map[string][]byte{corev1.TLSCertKey: pki1.CertPEM, corev1.TLSPrivateKeyKey: pki1.KeyPEM, "ca.crt": pki1.CAPEM},
	}
	if secret, err = cs.CoreV1().Secrets(ns).Create(ctx, secret, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	fp1 := manifests.TLSFingerprint(secret.Data)
	applyAll := func(kc *kube.Client, objs []*unstructured.Unstructured) {
		t.Helper()
		for _, o := range objs {
			if _, err := kc.Apply(ctx, o, true); err != nil {
				t.Fatalf("apply %s/%s: %v", o.GetKind(), o.GetName(), err)
			}
		}
	}
	planOnce := func(r *Runner) (*Target, *plan.Plan) {
		t.Helper()
		tg := load()
		p, _, err := r.Plan(ctx, tg, plan.Options{SkipNeo4j: true})
		if err != nil {
			t.Fatal(err)
		}
		return tg, p
	}
	stsOf := func(p *plan.Plan) (sts, roll *plan.Step) {
		for i, s := range p.Steps {
			switch {
			case s.Kind == plan.KindRollingUpdate:
				roll = &p.Steps[i]
			case strings.Contains(s.Address, "/StatefulSet/"):
				sts = &p.Steps[i]
			}
		}
		return sts, roll
	}
	stampIn := func(tg *Target) manifests.TLSStampLive {
		for _, o := range tg.Objects {
			if o.GetKind() == "StatefulSet" {
				return manifests.TLSStampOf(o.Object)
			}
		}
		t.Fatal("no StatefulSet rendered")
		return manifests.TLSStampLive{}
	}

	// 1. What a neo4jctl that did not stamp applied: the offline render.
	old := load()
	if l := stampIn(old); l.Recorded != "" || l.Template != "" {
		t.Fatalf("the offline render carries a stamp %+v", l)
	}
	applyAll(newClient(), old.Objects)
	watcher := &Runner{Kube: newClient(), SkipNeo4j: true} // kept, with its cache, for step 4
	tg, p := planOnce(watcher)
	sts, roll := stsOf(p)
	if roll != nil {
		t.Errorf("the first stamp of a running cluster rolls it: %+v", roll)
	}
	if sts == nil || !strings.Contains(sts.Reason, "record the TLS certificate's fingerprint "+fp1+" as the baseline") {
		t.Fatalf("StatefulSet step %+v, want the baseline %s recorded", sts, fp1)
	}
	if l := stampIn(tg); l.Recorded != fp1 || l.Template != "" {
		t.Errorf("stamp %+v, want %s recorded on the StatefulSet and none on the Pod template", l, fp1)
	}
	applyAll(newClient(), tg.Objects)

	// 2. Recorded: nothing more to do about it.
	_, p = planOnce(&Runner{Kube: newClient(), SkipNeo4j: true})
	if sts, roll := stsOf(p); sts != nil || roll != nil {
		t.Errorf("after the baseline was recorded the plan still changes the StatefulSet: %+v %+v", sts, roll)
	}

	// 3. The certificate replaced (cert-manager renews it in place).
	secret.Data = map[string][]byte{corev1.TLSCertKey: pki2.CertPEM, corev1.TLSPrivateKeyKey: pki2.KeyPEM, "ca.crt": pki1.CAPEM}
	if secret, err = cs.CoreV1().Secrets(ns).Update(ctx, secret, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	fp2 := manifests.TLSFingerprint(secret.Data)
	renewed, p := planOnce(&Runner{Kube: newClient(), SkipNeo4j: true})
	sts, roll = stsOf(p)
	want := "certificate renewed: fingerprint " + fp1 + " → " + fp2 + ", rolling restart one server at a time"
	if roll == nil || !strings.HasPrefix(roll.Reason, want) || roll.Rollout == nil || strings.Join(roll.Rollout.Pods, ",") != "quickstart-2,quickstart-1,quickstart-0" {
		t.Errorf("rolling-update step %+v, want one over quickstart-2, quickstart-1, quickstart-0 with reason %q…", roll, want)
	}
	if sts == nil || !strings.HasPrefix(sts.Reason, "certificate renewed: fingerprint "+fp1+" → "+fp2) {
		t.Errorf("StatefulSet step %+v, want the renewal named", sts)
	}
	if l := stampIn(renewed); l.Recorded != fp2 || l.Template != fp2 {
		t.Errorf("stamp %+v, want %s on both", l, fp2)
	}
	applyAll(newClient(), renewed.Objects)

	// 4. The first runner cached fp1 less than a minute ago; the live
	// StatefulSet now records fp2.
	again := load()
	if err := watcher.RenderForCluster(ctx, again); err != nil {
		t.Fatal(err)
	}
	if l := stampIn(again); l.Recorded != fp2 || l.Template != fp2 {
		t.Errorf("a client that read the old certificate stamps %+v, want %s on both (never back to %s)", l, fp2, fp1)
	}
}
