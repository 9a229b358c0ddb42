package plan

import (
	"fmt"
	"strings"

	"github.com/neo4jctl/neo4jctl/internal/state"
)

// Servers returning on a retained volume (issue 11, item 5).
//
// A StatefulSet keeps a Pod's claims when it scales in (whenScaled:
// Retain, the default). The data volume holds the server's identity
// (server_id, Operations Manual, clustering/servers, "Server identity"), so
// a Pod that returns onto it comes back as the server that was dropped —
// and a dropped server can never rejoin (clustering/servers, "Dropping a
// server": DROP SERVER removes it from the cluster for good). The
// databases it hosted were moved off before the DROP, so the volume holds
// nothing the cluster needs: the claim is deleted before the replicas go
// up, and the Pod starts on a new volume as a new, Free server.

// claimName is the claim the volume claim template tmpl makes for a Pod.
func claimName(tmpl, sts string, ord int) string { return tmpl + "-" + podName(sts, ord) }

// returningClaims plans, for a scale out of sts from live to target
// replicas, the deletion of the data claim of every new ordinal whose claim
// still exists while SHOW SERVERS has no server there (Dropped, or absent
// altogether): the Pod would start on it as a server that cannot join.
// The deletions come first in the pool's chain, before the replicas go up.
func (b *builder) returningClaims(c *chain, sts string, live, target int) {
	if !b.k.ClaimsObserved {
		b.retainedVolumeWarnings(sts, live, target, nil)
		return
	}
	claims := map[string]state.Claim{}
	for _, cl := range b.k.Claims {
		claims[cl.Name] = cl
	}
	for ord := live; ord < target; ord++ {
		if _, known := b.byPod[sts][ord]; known {
			continue
		}
		pod := podName(sts, ord)
		cl, ok := claims[claimName("data", sts, ord)]
		if !ok {
			continue
		}
		was := "no server in SHOW SERVERS"
		if s, ok := b.droppedAtPod(sts, ord); ok {
			was = fmt.Sprintf("server %s, Dropped", s.ID)
		}
		c.add(Step{Address: claimAddress(cl), Action: ActionDelete, Kind: KindDeleteClaim, Irreversible: true,
			Object: &ObjectRef{Version: "v1", Kind: "PersistentVolumeClaim", Namespace: cl.Namespace, Name: cl.Name, UID: cl.UID},
			Reason: fmt.Sprintf("%s returns on a retained volume whose identity is %s: it could never rejoin; its databases were moved off before the drop, so the claim is deleted before the Pod starts (a new volume, a new Free server)", pod, was)})
	}
}

func claimAddress(cl state.Claim) string {
	return "k8s:core/PersistentVolumeClaim/" + cl.Namespace + "/" + cl.Name
}

// droppedAtPod finds a Dropped server whose advertised address is the Pod's.
func (b *builder) droppedAtPod(sts string, ord int) (state.Server, bool) {
	pod := podName(sts, ord)
	var want string
	if b.d.PodAddress != nil {
		want = normHost(b.d.PodAddress(sts, ord))
	}
	for _, id := range sortedKeys(b.n.Servers) {
		s := b.n.Servers[id]
		if s.State != state.ServerDropped {
			continue
		}
		host := normHost(s.Address)
		label, _, _ := strings.Cut(host, ".")
		if (want != "" && host == want) || label == pod {
			if s.ID == "" {
				s.ID = id
			}
			return s, true
		}
	}
	return state.Server{}, false
}
