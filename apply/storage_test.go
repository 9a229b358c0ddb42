package apply

import (
	"context"

	"github.com/neo4jctl/neo4jctl/internal/kube"
)

// DeleteOrphaning logs the orphaning delete a StatefulSet replace sends.
func (k *fakeKube) DeleteOrphaning(_ context.Context, r kube.Ref) error {
	key := "delete-orphaning " + r.Kind + "/" + r.Name
	k.log.add("%s", key)
	return k.fail[key]
}

func (k *fakeKube) ResizeClaim(_ context.Context, ns, name, uid, size string) error {
	key := "resize " + name
	k.log.add("%s %s", key, size)
	return k.fail[key]
}

func (k *fakeKube) WaitClaimCapacity(_ context.Context, ns, name, size string, _ func(string)) error {
	key := "wait claim " + name
	k.log.add("%s %s", key, size)
	return k.fail[key]
}
