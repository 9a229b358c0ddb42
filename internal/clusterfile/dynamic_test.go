package clusterfile

import "testing"

func TestSameSettingValue(t *testing.T) {
	for _, tc := range []struct {
		want, live string
		same       bool
	}{
		{"384m", "402653184", true}, // the case: plan and drift disagreed
		{"384m", "384M", true},
		{"1g", "1024m", true},
		{"384m", "400000000", false},
		{"1m", "60s", true}, // a duration: a minute, not a MiB
		{"30s", "30000ms", true},
		{"1d", "24h", true},
		{"2s", "3s", false},
		{"TRUE", "true", true},
		{"a, b", "a,b", true},
		{"a,b", "b,a", false},
		{"INFO", "DEBUG", false},
	} {
		if got := SameSettingValue(tc.want, tc.live); got != tc.same {
			t.Errorf("SameSettingValue(%q, %q) = %v, want %v", tc.want, tc.live, got, tc.same)
		}
	}
}

func TestDynamicSetting(t *testing.T) {
	c := &Cluster{}
	if !DynamicSetting(c, "db.logs.query.threshold") {
		t.Error("db.logs.query.threshold is dynamic in 5.26 (configuration/dynamic-settings.adoc)")
	}
	if DynamicSetting(c, "server.memory.pagecache.size") {
		t.Error("server.memory.pagecache.size needs a restart")
	}
	c.Spec.Edition = EditionCommunity
	if DynamicSetting(c, "db.logs.query.threshold") {
		t.Error("Community has no dbms.setConfigValue")
	}
	for _, k := range dynamic526 {
		if !knownSetting(k) {
			t.Errorf("dynamic setting %s is not in the 5.26 settings table", k)
		}
	}
}
