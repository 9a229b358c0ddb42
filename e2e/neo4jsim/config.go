package neo4jsim

import (
	"fmt"
	"strings"
)

// Per-server configuration. Every server has the configuration it started
// with (conf: its neo4j.conf and environment, read at (re)start) and the
// live changes made since (runtime: dbms.setConfigValue, lost at restart).
// Nothing here is shared between servers except the simulator's base
// settings (defaults plus Config.Settings), which stand for the image's
// defaults.

// dynamicSettings are the settings Neo4j 5.26 Enterprise lets
// dbms.setConfigValue change (fact: settings.dynamic: the manual's list
// of SHOW SETTINGS … WHERE isDynamic).
var dynamicSettings = map[string]bool{
	"db.checkpoint.iops.limit":                                     true,
	"db.format":                                                    true,
	"db.lock.acquisition.timeout":                                  true,
	"db.logs.query.annotation_data_as_json_enabled":                true,
	"db.logs.query.annotation_data_format":                         true,
	"db.logs.query.early_raw_logging_enabled":                      true,
	"db.logs.query.enabled":                                        true,
	"db.logs.query.max_parameter_length":                           true,
	"db.logs.query.obfuscate_errors":                               true,
	"db.logs.query.obfuscate_literals":                             true,
	"db.logs.query.parameter_logging_enabled":                      true,
	"db.logs.query.plan_description_enabled":                       true,
	"db.logs.query.threshold":                                      true,
	"db.logs.query.transaction.enabled":                            true,
	"db.logs.query.transaction.threshold":                          true,
	"db.memory.transaction.max":                                    true,
	"db.memory.transaction.total.max":                              true,
	"db.track_query_cpu_time":                                      true,
	"db.transaction.bookmark_ready_timeout":                        true,
	"db.transaction.concurrent.maximum":                            true,
	"db.transaction.sampling.percentage":                           true,
	"db.transaction.timeout":                                       true,
	"db.transaction.tracing.level":                                 true,
	"db.tx_log.preallocate":                                        true,
	"db.tx_log.rotation.retention_policy":                          true,
	"db.tx_log.rotation.size":                                      true,
	"dbms.cluster.network.connect_timeout":                         true,
	"dbms.cypher.render_plan_description":                          true,
	"dbms.memory.transaction.total.max":                            true,
	"dbms.routing.client_side.enforce_for_domains":                 true,
	"dbms.routing.reads_on_writers_enabled":                        true,
	"dbms.security.key.name":                                       true,
	"dbms.security.keystore.password":                              true,
	"dbms.security.keystore.path":                                  true,
	"dbms.security.ldap.authentication.attribute":                  true,
	"dbms.security.ldap.authentication.user_dn_template":           true,
	"dbms.security.ldap.authorization.access_permitted_group":      true,
	"dbms.security.ldap.authorization.group_membership_attributes": true,
	"dbms.security.ldap.authorization.group_to_role_mapping":       true,
	"dbms.security.ldap.authorization.nested_groups_enabled":       true,
	"dbms.security.ldap.authorization.nested_groups_search_filter": true,
	"dbms.security.ldap.authorization.user_search_base":            true,
	"dbms.security.ldap.authorization.user_search_filter":          true,
	"server.cluster.catchup.connect_randomly_to_server_group":      true,
	"server.cluster.catchup.connect_randomly_to_server_tags":       true,
	"server.databases.default_to_read_only":                        true,
	"server.databases.read_only":                                   true,
	"server.databases.writable":                                    true,
	"server.memory.pagecache.flush.buffer.enabled":                 true,
	"server.memory.pagecache.flush.buffer.size_in_pages":           true,
	"server.memory.query_cache.per_db_cache_num_entries":           true,
	"server.memory.query_cache.shared_cache_num_entries":           true,
}

// startupValue is the value srv started with for a setting: its own
// configuration, else the base settings, else "" (unset).
func (s *Simulator) startupValue(srv *simServer, name string) string {
	if v, ok := srv.conf[name]; ok {
		return v
	}
	if st, ok := s.settings[name]; ok {
		return st.value
	}
	return ""
}

// applyStartConfig makes srv what its configuration says at (re)start:
// fact: server.config-at-start, fact: server.system-mode. Live changes
// made with dbms.setConfigValue do not survive a restart.
func (s *Simulator) applyStartConfig(srv *simServer, conf map[string]string, version string) {
	srv.conf = conf
	srv.runtime = nil
	srv.discovery = ""
	if version != "" {
		srv.version = version
	}
	srv.sysPrimary = !strings.EqualFold(strings.TrimSpace(s.startupValue(srv, "server.cluster.system_database_mode")), "SECONDARY")
}

// initialOptions are the options ENABLE SERVER uses for what its OPTIONS
// leave out: the server's initial.server.* settings
// (fact: server.enable-defaults).
func (s *Simulator) initialOptions(srv *simServer) map[string]any {
	opts := map[string]any{}
	if m := strings.ToUpper(strings.TrimSpace(s.startupValue(srv, "initial.server.mode_constraint"))); m != "" {
		opts["modeConstraint"] = m
	}
	list := func(setting, option string) {
		var l []any
		for _, e := range strings.Split(s.startupValue(srv, setting), ",") {
			if e = strings.TrimSpace(e); e != "" {
				l = append(l, e)
			}
		}
		if len(l) > 0 {
			opts[option] = l
		}
	}
	list("initial.server.allowed_databases", "allowedDatabases")
	list("initial.server.denied_databases", "deniedDatabases")
	list("initial.server.tags", "tags")
	return opts
}

// setConfigValue is dbms.setConfigValue on srv only
// (fact: settings.dynamic).
func (s *Simulator) setConfigValue(srv *simServer, name, value string) *cypherError {
	set := s.settingsFor(srv)
	st, ok := set[name]
	if !ok {
		return procedureCallFailed("dbms.setConfigValue", fmt.Sprintf("java.lang.IllegalArgumentException: Setting `%s` not found", name))
	}
	if !st.dynamic {
		return procedureCallFailed("dbms.setConfigValue", fmt.Sprintf("java.lang.IllegalArgumentException: Setting `%s` is not dynamic and can not be changed at runtime", name))
	}
	if srv.runtime == nil {
		srv.runtime = map[string]string{}
	}
	// An empty value falls back to the default, not the startup value.
	srv.runtime[name] = value
	return nil
}

// envSetting turns an environment variable the Docker image's entrypoint
// writes into neo4j.conf back into its setting name: NEO4J_ prefix, "_"
// for ".", "__" for "_" (fact: server.config-at-start). Variables the
// image reads itself are not settings.
func envSetting(name string) (string, bool) {
	rest, ok := strings.CutPrefix(name, "NEO4J_")
	if !ok || rest == "" || imageVariables[rest] {
		return "", false
	}
	rest = strings.ReplaceAll(rest, "__", "\x00")
	rest = strings.ReplaceAll(rest, "_", ".")
	return strings.ReplaceAll(rest, "\x00", "_"), true
}

var imageVariables = map[string]bool{
	"AUTH": true, "ACCEPT_LICENSE_AGREEMENT": true, "PLUGINS": true, "EDITION": true, "HOME": true,
	"CONF": true, "DEBUG": true, "SHA256": true, "TARBALL": true, "AUTH_PATH": true,
}

// parseConf reads neo4j.conf lines into settings; later lines win.
func parseConf(text string, into map[string]string) {
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if k, v, ok := strings.Cut(line, "="); ok {
			into[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
}

// imageVersion is the Neo4j version an image runs, from its tag
// (fact: server.version): "neo4j:5.26.3-enterprise" runs 5.26.3. A
// floating tag ("5.26") that the configured version extends is that
// version; no tag at all is the configured version.
func imageVersion(image, configured string) string {
	if i := strings.Index(image, "@"); i >= 0 {
		image = image[:i]
	}
	colon := strings.LastIndex(image, ":")
	if colon < 0 || colon < strings.LastIndex(image, "/") {
		return configured
	}
	tag := image[colon+1:]
	for _, suffix := range []string{"-ubi8", "-ubi9", "-ubi10", "-bullseye", "-trixie", "-enterprise", "-community"} {
		tag = strings.TrimSuffix(tag, suffix)
	}
	if tag == "" || tag[0] < '0' || tag[0] > '9' {
		return configured
	}
	if strings.HasPrefix(configured, tag+".") {
		return configured
	}
	return tag
}
