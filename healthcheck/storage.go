package healthcheck

import (
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/neo4jctl/neo4jctl/internal/state"
)

// IDStorage is the store usage check.
const IDStorage = "capacity.storage"

// Store usage thresholds from the issue, in percent of the claim.
const (
	storageWarn = 80
	storageFail = 95
)

// ParseVolumeStats reads the volumes with a claim out of a kubelet Summary
// API response (stats/v1alpha1: pods[].volume[] with usedBytes,
// capacityBytes and pvcRef), keeping those of namespace.
func ParseVolumeStats(data []byte, namespace string) ([]state.VolumeUsage, error) {
	var summary struct {
		Pods []struct {
			PodRef struct {
				Name      string `json:"name"`
				Namespace string `json:"namespace"`
			} `json:"podRef"`
			Volume []struct {
				Name          string `json:"name"`
				UsedBytes     *int64 `json:"usedBytes"`
				CapacityBytes *int64 `json:"capacityBytes"`
				PVCRef        *struct {
					Name      string `json:"name"`
					Namespace string `json:"namespace"`
				} `json:"pvcRef"`
			} `json:"volume"`
		} `json:"pods"`
	}
	if err := json.Unmarshal(data, &summary); err != nil {
		return nil, fmt.Errorf("kubelet stats summary: %w", err)
	}
	var out []state.VolumeUsage
	for _, p := range summary.Pods {
		for _, v := range p.Volume {
			if v.PVCRef == nil || v.PVCRef.Namespace != namespace || v.UsedBytes == nil {
				continue
			}
			u := state.VolumeUsage{Claim: v.PVCRef.Name, Pod: p.PodRef.Name, UsedBytes: *v.UsedBytes}
			if v.CapacityBytes != nil {
				u.CapacityBytes = *v.CapacityBytes
			}
			out = append(out, u)
		}
	}
	return out, nil
}

// checkStorage compares what each claim's filesystem holds with the
// claim's capacity (status.capacity; the filesystem's own size when the
// claim's is unknown, e.g. a host path larger than the claim). Source: the
// kubelet's volume stats through the API server's node proxy.
func checkStorage(in *Input) Check {
	c := Check{ID: IDStorage, Title: "Store usage within the claims"}
	switch {
	case in.KubeErr != "":
		return kubeUnknown(c.ID, c.Title, in.KubeErr)
	case in.VolumesSkip != "":
		c.Status, c.Summary = Skip, in.VolumesSkip
		return c
	case in.VolumesErr != "":
		c.Status, c.Summary = Unknown, "could not read the kubelet's volume stats: "+in.VolumesErr
		c.Fix = "grant get on nodes/proxy, or pass --volume-stats=off to skip this check"
		return c
	}
	claims := map[string]state.ClaimHealth{}
	for _, cl := range in.Kube.Claims {
		claims[cl.Name] = cl
	}
	var fails, warns, ok []string
	for _, v := range in.Volumes {
		cl, mine := claims[v.Claim]
		if !mine {
			continue
		}
		capacity := v.CapacityBytes
		if q, err := resource.ParseQuantity(cl.Capacity); err == nil && q.Value() > 0 {
			capacity = q.Value()
		}
		if capacity <= 0 {
			continue
		}
		pct := float64(v.UsedBytes) * 100 / float64(capacity)
		line := fmt.Sprintf("%s (Pod %s): %s of %s used (%.0f %%)", v.Claim, v.Pod, size(v.UsedBytes), size(capacity), pct)
		switch {
		case pct >= storageFail:
			fails = append(fails, line)
		case pct >= storageWarn:
			warns = append(warns, line)
		default:
			ok = append(ok, line)
		}
	}
	switch {
	case len(fails) > 0:
		c.Status, c.Summary, c.Evidence = Fail, fmt.Sprintf("a claim is %d %% full or more: Neo4j stops writing when its disk is full", storageFail), append(fails, warns...)
		c.Fix = "raise spec.storage.data.size (the storage class must allow volume expansion) and apply, or free space (old transaction logs: db.tx_log.rotation.retention_policy)"
	case len(warns) > 0:
		c.Status, c.Summary, c.Evidence = Warn, fmt.Sprintf("a claim is %d %% full or more", storageWarn), warns
		c.Fix = "plan the growth: raise spec.storage.data.size before it fills"
	case len(ok) == 0:
		c.Status, c.Summary = Unknown, "the kubelets reported no usage for the cluster's claims"
		c.Fix = "check that the Pods run and mount their claims"
	default:
		c.Status, c.Summary, c.Evidence = Pass, fmt.Sprintf("every claim below %d %%", storageWarn), ok
	}
	return c
}
