package plan

import (
	"strings"
	"testing"
)

func TestRedactText(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"jvm property", "-Dfoo.password=canary", "-Dfoo.password=" + Sensitive},
		{"several jvm properties", "-Xss2m -Dapi.token=canary -Dcolor=blue -Dx.SECRET=\"canary canary\"",
			"-Xss2m -Dapi.token=" + Sensitive + " -Dcolor=blue -Dx.SECRET=" + Sensitive},
		{"conf line", "server.jvm.additional=-Dfoo.password=canary\nserver.bolt.enabled=true",
			"server.jvm.additional=-Dfoo.password=" + Sensitive + "\nserver.bolt.enabled=true"},
		{"k=v with spaces", "db_credential = canary", "db_credential = " + Sensitive},
		{"flag with value", "run --password canary --verbose", "run --password " + Sensitive + " --verbose"},
		{"flag quoted", "--auth-token 'canary canary'", "--auth-token " + Sensitive},
		{"flag without value", "--password --verbose", "--password --verbose"},
		{"url userinfo", "bolt+s://neo4j:canary@db.example.com:7687", "bolt+s://neo4j:" + Sensitive + "@db.example.com:7687"},
		{"query token", "https://h/x?access_token=canary&page=2", "https://h/x?access_token=" + Sensitive + "&page=2"},
		{"json member", `{"user":"neo4j","apiKey":"canary"}`, `{"user":"neo4j","apiKey":"` + Sensitive + `"}`},
		{"harmless", "-XX:+UseG1GC -Dfile.encoding=UTF-8", "-XX:+UseG1GC -Dfile.encoding=UTF-8"},
		{"setting about a credential", "-Dauth_minimum_password_length=12 -Dtoken.ttl=30m -Dx.token.enabled=true",
			"-Dauth_minimum_password_length=12 -Dtoken.ttl=30m -Dx.token.enabled=true"},
		{"numeric password", "-Dpin.password=123456", "-Dpin.password=" + Sensitive},
		{"already redacted", "-Dfoo.password=" + Sensitive, "-Dfoo.password=" + Sensitive},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := RedactText(tc.in); got != tc.want {
				t.Errorf("RedactText(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if got := RedactText(RedactText(tc.in)); got != tc.want {
				t.Errorf("RedactText is not idempotent on %q: %q", tc.in, got)
			}
		})
	}
}

func TestRedactObjectValues(t *testing.T) {
	cm := map[string]any{"data": map[string]any{
		"neo4j.conf": "server.jvm.additional=-Dfoo.password=canary\nserver.memory.heap.max_size=1g\n",
	}}
	got := redact("ConfigMap", nil, cm).(map[string]any)["data"].(map[string]any)["neo4j.conf"]
	want := "server.jvm.additional=-Dfoo.password=" + Sensitive + "\nserver.memory.heap.max_size=1g\n"
	if got != want {
		t.Errorf("ConfigMap conf: got %q, want %q", got, want)
	}
	sts := map[string]any{"spec": map[string]any{"containers": []any{map[string]any{
		"name": "app", "args": []any{"--token", "canary", "-v"}, "command": []any{"sh", "-c", "run --password canary"},
		"env": []any{map[string]any{"name": "JAVA_OPTS", "value": "-Dx.credential=canary"}},
	}}}}
	c := redact("StatefulSet", nil, sts).(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
	if got := c["command"].([]any)[2]; got != "run --password "+Sensitive {
		t.Errorf("command: got %q", got)
	}
	if got := c["args"].([]any); got[1] != Sensitive || got[2] != "-v" {
		t.Errorf("args: got %q", got)
	}
	if got := c["env"].([]any)[0].(map[string]any)["value"]; got != "-Dx.credential="+Sensitive {
		t.Errorf("env value: got %q", got)
	}
	if got := redactSetting("server.jvm.additional", "-Dfoo.password=canary"); got != "-Dfoo.password="+Sensitive {
		t.Errorf("setting: got %q", got)
	}
}

func TestRegisteredSecretValuesAreHiddenEverywhere(t *testing.T) {
	const pw = "Zq9-registered-pw"
	if got := RedactText("x " + pw); got != "x "+pw {
		t.Fatalf("an unregistered value is hidden: %q", got)
	}
	RegisterSecretValue(pw)
	RegisterSecretValue("ab") // too short to mask anything
	for _, in := range []string{pw, "host=" + pw + ".example", `{"note":"` + pw + `"}`} {
		if got := RedactText(in); strings.Contains(got, pw) || !strings.Contains(got, Sensitive) {
			t.Errorf("RedactText(%q) = %q", in, got)
		}
	}
	live := map[string]any{"data": map[string]any{"notes.txt": "the password is " + pw}}
	if got := redact("ConfigMap", nil, live).(map[string]any)["data"].(map[string]any)["notes.txt"]; got != "the password is "+Sensitive {
		t.Errorf("ConfigMap value: got %q", got)
	}
	if got := RedactText("about a cab"); got != "about a cab" {
		t.Errorf("a short registered value masked text: %q", got)
	}
}
