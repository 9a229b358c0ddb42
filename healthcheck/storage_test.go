package healthcheck

import "testing"

// summary is a kubelet Summary API response (stats/v1alpha1) in the shape
// the kubelet serves at /stats/summary, cut to what the check reads. The
// test environment cannot serve one: the API server refuses to proxy to
// kwok's loopback node addresses ("address not allowed").
const summary = `{
  "node": {"nodeName": "node-a", "fs": {"usedBytes": 1}},
  "pods": [
    {"podRef": {"name": "prod-0", "namespace": "graph", "uid": "u0"},
     "volume": [
       {"time": "2026-12-07T12:00:00Z", "availableBytes": 100, "capacityBytes": 2147483648, "usedBytes": 2061584302, "inodesFree": 10, "name": "data",
        "pvcRef": {"name": "data-prod-0", "namespace": "graph"}},
       {"name": "config", "usedBytes": 4096, "capacityBytes": 8192},
       {"name": "logs", "capacityBytes": 1073741824, "pvcRef": {"name": "logs-prod-0", "namespace": "graph"}}
     ]},
    {"podRef": {"name": "other-0", "namespace": "elsewhere"},
     "volume": [{"name": "data", "usedBytes": 1, "capacityBytes": 2, "pvcRef": {"name": "data-other-0", "namespace": "elsewhere"}}]}
  ]
}`

func TestParseVolumeStats(t *testing.T) {
	got, err := ParseVolumeStats([]byte(summary), "graph")
	if err != nil {
		t.Fatal(err)
	}
	// Only claims of the namespace with a usage: not the ConfigMap volume,
	// not the logs claim without usedBytes, not another namespace's.
	if len(got) != 1 || got[0].Claim != "data-prod-0" || got[0].Pod != "prod-0" || got[0].UsedBytes != 2061584302 || got[0].CapacityBytes != 2147483648 {
		t.Fatalf("got %+v, want data-prod-0 only", got)
	}
	in := healthy()
	in.Expected.Namespace = "graph"
	in.Volumes = got
	var c Check
	for _, x := range Compute(in).Checks {
		if x.ID == IDStorage {
			c = x
		}
	}
	if c.Status != Fail || len(c.Evidence) != 1 || c.Evidence[0] != "data-prod-0 (Pod prod-0): 1966Mi of 2Gi used (96 %)" {
		t.Errorf("got %s %q, want FAIL at 96 %%", c.Status, c.Evidence)
	}
	if _, err := ParseVolumeStats([]byte("<html>"), "graph"); err == nil {
		t.Error("garbage: got no error")
	}
}
