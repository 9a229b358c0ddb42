package clusterfile

import (
	"strings"
	"sync"
	"time"
)

var dynamic526Set = sync.OnceValue(func() map[string]bool {
	m := make(map[string]bool, len(dynamic526))
	for _, s := range dynamic526 {
		m[s] = true
	}
	return m
})

// DynamicSetting reports whether a setting can be changed on a running
// server with CALL dbms.setConfigValue, so that changing it needs no
// restart (Operations Manual 5.26, configuration/dynamic-settings.adoc).
// The table is 5.26's; calendar versions are read with it too, which at
// worst restarts servers for a setting a later version made dynamic.
// Dynamic settings are Enterprise only: a Community server must restart
// for every change.
func DynamicSetting(c *Cluster, key string) bool {
	if c != nil && c.Spec.Edition == EditionCommunity {
		return false
	}
	return dynamic526Set()[key]
}

// InitialSetting reports whether a setting is read only when the DBMS (or
// a server) is first created: the initial.* namespace. The manual
// describes each as such (configuration/configuration-settings.adoc, e.g.
// § initial.dbms.default_primaries_count: "Initialized at the first DBMS
// startup"; § initial.server.mode_constraint: "Initialized at the first
// DBMS startup and/or when a newly added server is enabled"). Changing one never needs a restart of a running cluster.
func InitialSetting(key string) bool { return strings.HasPrefix(key, "initial.") }

// SameSettingValue is the one comparison of a setting's value in the
// cluster file (want) with what a server reports in SHOW SETTINGS (live).
// Plan and drift both use it, so they never disagree. Neo4j normalises
// some values when it reports them: byte sizes in bytes ("384m" is
// reported as 402653184), durations in its own unit ("1m" as "60s"),
// booleans and enums in their own case, lists without spaces. Two values
// are the same when they are equal after trimming and ignoring case, as
// byte sizes, as durations, or as comma-separated lists of such values.
func SameSettingValue(want, live string) bool {
	want, live = strings.TrimSpace(want), strings.TrimSpace(live)
	if strings.EqualFold(want, live) {
		return true
	}
	if strings.Contains(want, ",") || strings.Contains(live, ",") {
		a, b := strings.Split(want, ","), strings.Split(live, ",")
		if len(a) != len(b) {
			return false
		}
		for i := range a {
			if !sameScalar(a[i], b[i]) {
				return false
			}
		}
		return true
	}
	return sameScalar(want, live)
}

func sameScalar(a, b string) bool {
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	if strings.EqualFold(a, b) {
		return true
	}
	// Both read as durations with a unit: "1m" is a minute there, not a
	// MiB, so durations are compared before sizes.
	if da, ok := settingDuration(a); ok {
		if db, ok := settingDuration(b); ok {
			return da == db
		}
	}
	if fa, ok := parseNeo4jSize(a); ok {
		if fb, ok := parseNeo4jSize(b); ok {
			return fa == fb
		}
	}
	return false
}

// settingDuration reads a Neo4j duration with a unit (ms, s, m, h, d), as
// configuration-settings.adoc writes them ("Valid units are: ns, μs, ms,
// s, m, h and d"). A bare number is not read: it could be bytes.
func settingDuration(s string) (time.Duration, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if n, ok := strings.CutSuffix(s, "d"); ok {
		d, err := time.ParseDuration(n + "h")
		return d * 24, err == nil && n != ""
	}
	if strings.HasSuffix(s, "m") || strings.HasSuffix(s, "s") || strings.HasSuffix(s, "h") {
		d, err := time.ParseDuration(strings.ReplaceAll(s, "μs", "us"))
		return d, err == nil
	}
	return 0, false
}
