package healthcheck

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/neo4jctl/neo4jctl/e2e/harness"
	"github.com/neo4jctl/neo4jctl/internal/state"
	"github.com/neo4jctl/neo4jctl/plan"
)

func TestBundleHoldsNoSecret(t *testing.T) {
	const canary = "canary-Pa55w0rd-7f3a"
	const envOnly = "env-only-value-91x" // known to no one: removed by name
	// Known to no one and under a harmless name: removed because it is the
	// value of a credential-named key inside the value.
	const inValue = "canary-in-value-2c"
	b := NewBundle(canary, "ab") // too short to scrub by value
	sts := map[string]any{"kind": "StatefulSet", "spec": map[string]any{"template": map[string]any{"spec": map[string]any{
		"containers": []any{map[string]any{"name": "neo4j", "env": []any{
			map[string]any{"name": "NEO4J_AUTH", "value": "neo4j/" + canary},
			map[string]any{"name": "APP_TOKEN", "value": envOnly},
			map[string]any{"name": "NEO4J_server_memory_heap_max__size", "value": "384m"},
			map[string]any{"name": "FROM_SECRET", "valueFrom": map[string]any{"secretKeyRef": map[string]any{"name": "neo4j-auth"}}},
		}}},
	}}}}
	cm := map[string]any{"kind": "ConfigMap", "data": map[string]any{
		"neo4j.conf": "server.memory.pagecache.size=256m\nserver.jvm.additional=-XX:+UseG1GC -Dfoo.password=" + inValue + "\n",
	}}
	secret := map[string]any{"kind": "Secret", "data": map[string]any{"password": "Y2FuYXJ5"}, "stringData": map[string]any{"password": canary}}
	sts, secret, cm = RedactObject(sts), RedactObject(secret), RedactObject(cm)
	b.AddJSON("live.json", []any{sts, secret, cm})
	b.AddJSON("settings.json", RedactSettings(map[string]state.Setting{
		"dbms.security.ldap.authorization.system_password": {Name: "dbms.security.ldap.authorization.system_password", Value: "whatever-ldap"},
		"server.memory.pagecache.size":                     {Name: "server.memory.pagecache.size", Value: "256m"},
		"dbms.security.auth_enabled":                       {Name: "dbms.security.auth_enabled", Value: "true"},
		"server.jvm.additional":                            {Name: "server.jvm.additional", Value: "-XX:+UseG1GC -Dfoo.password=" + inValue},
	}))
	b.Add("logs/prod-0.log", []byte("INFO started with password "+canary+"\nWARN retrying bolt://neo4j:"+inValue+"@prod-1:7687 with --token "+inValue+"\n"))
	b.Failed("logs/prod-1.log", errors.New("auth failed for "+canary))
	var out bytes.Buffer
	if err := b.Write(&out, "bundle", now, "neo4jctl support bundle\n"); err != nil {
		t.Fatal(err)
	}
	files := harness.ReadTarGz(t, bytes.NewReader(out.Bytes()))
	for name, body := range files {
		for _, secret := range []string{canary, envOnly, inValue, "whatever-ldap", "Y2FuYXJ5"} {
			if strings.Contains(body, secret) {
				t.Errorf("%s holds the secret %q:\n%s", name, secret, body)
			}
		}
	}
	m := files["bundle/MANIFEST"]
	for _, want := range []string{"live.json (", "settings.json (", "Not collected:\n  logs/prod-1.log: auth failed for " + plan.Sensitive, "4 further credentials"} {
		if !strings.Contains(m, want) {
			t.Errorf("MANIFEST lacks %q:\n%s", want, m)
		}
	}
	for _, keep := range []string{"384m", "256m", `"value": "true"`, "secretKeyRef", "-XX:+UseG1GC -Dfoo.password="} {
		if !strings.Contains(files["bundle/live.json"]+files["bundle/settings.json"], keep) {
			t.Errorf("bundle lost the harmless %q", keep)
		}
	}
}
