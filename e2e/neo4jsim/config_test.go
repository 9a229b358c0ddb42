package neo4jsim

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/neo4j/neo4j-go-driver/v5/neo4j"
)

// settingOn reads one setting's value and startupValue over a direct
// connection to the server listening on listen.
func settingOn(t *testing.T, listen, name string) (value, startup any) {
	t.Helper()
	d := newDriver(t, "bolt://"+listen, testPassword)
	rows := mustRun(t, d, "SHOW SETTINGS $n YIELD name, value, startupValue", map[string]any{"n": name})
	if len(rows) != 1 {
		t.Fatalf("SHOW SETTINGS %s on %s: %v", name, listen, rows)
	}
	return rows[0]["value"], rows[0]["startupValue"]
}

// systemRoles maps serverId → role of its system allocation.
func systemRoles(t *testing.T, d neo4j.DriverWithContext) map[string]any {
	t.Helper()
	out := map[string]any{}
	for _, r := range mustRun(t, d, "SHOW DATABASE system YIELD serverID, role", nil) {
		out[r["serverID"].(string)] = r["role"]
	}
	return out
}

// A server's system database mode is its own configuration, not the order
// in which it joined: a late joiner configured PRIMARY (Neo4j's default)
// hosts system as a primary, one configured SECONDARY as a secondary.
func TestSystemModeComesFromServerConfig(t *testing.T) {
	s := startSim(t, Config{Servers: 3})
	d := newDriver(t, s.URI("bolt"), testPassword)
	primary, err := s.AddServer("neo4j-3.neo4j-headless.default.svc.cluster.local:7687")
	if err != nil {
		t.Fatal(err)
	}
	secondary, err := s.AddServer("neo4j-4.neo4j-headless.default.svc.cluster.local:7687",
		map[string]string{"server.cluster.system_database_mode": "SECONDARY"})
	if err != nil {
		t.Fatal(err)
	}
	roles := systemRoles(t, d)
	if roles[primary.ID] != rolePrimary || roles[secondary.ID] != roleSecondary {
		t.Errorf("system roles: late joiner with default config %v (want primary), configured SECONDARY %v (want secondary)",
			roles[primary.ID], roles[secondary.ID])
	}
	if v, _ := settingOn(t, secondary.Listen, "server.cluster.system_database_mode"); v != "SECONDARY" {
		t.Errorf("SHOW SETTINGS on the secondary: system_database_mode %v", v)
	}
	if v, _ := settingOn(t, primary.Listen, "server.cluster.system_database_mode"); v != "PRIMARY" {
		t.Errorf("SHOW SETTINGS on the late primary: system_database_mode %v", v)
	}
}

// ENABLE SERVER takes what its OPTIONS leave out from the server's own
// initial.server.* settings.
func TestEnableServerDefaultsFromInitialSettings(t *testing.T) {
	s := startSim(t, Config{Servers: 3})
	d := newDriver(t, s.URI("bolt"), testPassword)
	conf := map[string]string{"initial.server.mode_constraint": "SECONDARY", "initial.server.tags": "eu, eu-west"}
	a, err := s.AddServer("a:7687", conf)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.AddServer("b:7687", conf)
	if err != nil {
		t.Fatal(err)
	}
	mustRun(t, d, "ENABLE SERVER $id", map[string]any{"id": a.ID})
	mustRun(t, d, "ENABLE SERVER $id OPTIONS {tags: ['us']}", map[string]any{"id": b.ID})
	for _, c := range []struct {
		id   string
		tags []any
	}{{a.ID, []any{"eu", "eu-west"}}, {b.ID, []any{"us"}}} {
		row := serverRow(t, d, c.id)
		if row["modeConstraint"] != "SECONDARY" || cmp.Diff(c.tags, row["tags"]) != "" {
			t.Errorf("server %s: modeConstraint %v tags %v, want SECONDARY %v", c.id, row["modeConstraint"], row["tags"], c.tags)
		}
	}
}

// dbms.setConfigValue changes one server only, only dynamic settings, and
// an empty value means the default.
func TestSetConfigValueIsPerServerAndDynamicOnly(t *testing.T) {
	s := startSim(t, Config{Servers: 3})
	srvs := s.Servers()
	a, b := srvs[0], srvs[1]
	da := newDriver(t, "bolt://"+a.Listen, testPassword)
	ctx := context.Background()
	if _, err := neo4j.ExecuteQuery(ctx, da, "CALL dbms.setConfigValue('db.logs.query.enabled', 'INFO')", nil,
		neo4j.EagerResultTransformer, neo4j.ExecuteQueryWithDatabase("neo4j")); err != nil {
		t.Fatalf("setConfigValue: %v", err)
	}
	if v, st := settingOn(t, a.Listen, "db.logs.query.enabled"); v != "INFO" || st != "VERBOSE" {
		t.Errorf("on the server it ran on: value %v startupValue %v, want INFO / VERBOSE", v, st)
	}
	if v, _ := settingOn(t, b.Listen, "db.logs.query.enabled"); v != "VERBOSE" {
		t.Errorf("on another server: %v, want VERBOSE (not propagated)", v)
	}
	for _, c := range []struct{ name, want string }{
		{"server.memory.heap.max_size", "is not dynamic"},
		{"no.such.setting", "not found"},
	} {
		_, err := run(t, da, "CALL dbms.setConfigValue($n, '1g')", map[string]any{"n": c.name})
		if neo4jCode(err) != CodeProcedureCallFailed || !strings.Contains(err.Error(), c.want) {
			t.Errorf("setConfigValue(%s): got %v, want %s mentioning %q", c.name, err, CodeProcedureCallFailed, c.want)
		}
	}
	mustRun(t, da, "CALL dbms.setConfigValue('db.logs.query.enabled', '')", nil)
	if v, _ := settingOn(t, a.Listen, "db.logs.query.enabled"); v != "VERBOSE" {
		t.Errorf("after reset: %v, want the default VERBOSE", v)
	}
	var logged bool
	for _, st := range s.Log() {
		if st.Command == "CALL dbms.setConfigValue" && st.ServerID == a.ID {
			logged = true
		}
	}
	if !logged {
		t.Errorf("setConfigValue not in the statement log: %v", s.Log())
	}
}

func TestImageVersion(t *testing.T) {
	for _, c := range []struct{ image, want string }{
		{"neo4j:5.26.3-enterprise", "5.26.3"},
		{"registry.example.com:5000/neo4j:2025.10.1-enterprise-ubi9", "2025.10.1"},
		{"neo4j:5.26-enterprise", "5.26.0"},
		{"neo4j:5.26.1@sha256:abcd", "5.26.1"},
		{"registry.example.com:5000/neo4j", "5.26.0"},
		{"neo4j:latest", "5.26.0"},
	} {
		if got := imageVersion(c.image, "5.26.0"); got != c.want {
			t.Errorf("imageVersion(%q) = %q, want %q", c.image, got, c.want)
		}
	}
}

func TestEnvSetting(t *testing.T) {
	for env, want := range map[string]string{
		"NEO4J_server_cluster_system__database__mode": "server.cluster.system_database_mode",
		"NEO4J_initial_server_mode__constraint":       "initial.server.mode_constraint",
		"NEO4J_AUTH":                                  "",
		"NEO4J_PLUGINS":                               "",
		"POD_NAME":                                    "",
	} {
		got, ok := envSetting(env)
		if ok != (want != "") || got != want {
			t.Errorf("envSetting(%s) = %q, %v; want %q", env, got, ok, want)
		}
	}
}

// TestEveryDynamicSettingIsListed: an Enterprise server reports every
// dynamic setting in SHOW SETTINGS, set or not, and setConfigValue accepts
// one nobody configured (fact: settings.all-listed).
func TestEveryDynamicSettingIsListed(t *testing.T) {
	s := startSim(t, Config{Servers: 1})
	a := s.Servers()[0]
	if v, _ := settingOn(t, a.Listen, "db.logs.query.threshold"); v != "0s" {
		t.Errorf("db.logs.query.threshold unset: value %v, want its default 0s", v)
	}
	da := newDriver(t, "bolt://"+a.Listen, testPassword)
	mustRun(t, da, "CALL dbms.setConfigValue('db.logs.query.threshold', '5s')", nil)
	if v, _ := settingOn(t, a.Listen, "db.logs.query.threshold"); v != "5s" {
		t.Errorf("after setConfigValue: %v, want 5s", v)
	}
}
