package ops

import (
	"encoding/base64"
	"fmt"

	"sigs.k8s.io/yaml"

	"github.com/neo4jctl/neo4jctl/backup/crypt"
)

// Rotation is the outcome of a key rotation.
type Rotation struct {
	// Keyset is the new keyset, serialised (wrapped by the KMS when one
	// is used). It is secret: write it to a file or a Secret, never a log.
	Keyset []byte `json:"-"`
	// NewKeyID is the new primary key; KeyIDs every key in the keyset (the
	// old ones still decrypt older artifacts).
	NewKeyID string   `json:"newKeyId"`
	KeyIDs   []string `json:"keyIds"`
	// Created says the keyset is new (there was none to rotate).
	Created bool `json:"created"`
}

// RotateKeyset adds a new primary key to the keyset current (or makes a
// first keyset when current is nil) and serialises it with kms
// (crypt.Cleartext for a keyset protected only by its Secret).
func RotateKeyset(current []byte, kms crypt.KMS) (Rotation, error) {
	var (
		k   *crypt.Keys
		err error
		r   Rotation
	)
	if current == nil {
		if k, err = crypt.NewKeyset(); err != nil {
			return r, err
		}
		r.Created = true
		r.NewKeyID = k.PrimaryKeyID()
	} else {
		if k, err = crypt.LoadKeyset(current, kms); err != nil {
			return r, fmt.Errorf("load the current keyset: %w", err)
		}
		if r.NewKeyID, err = k.Rotate(); err != nil {
			return r, err
		}
	}
	if r.Keyset, err = k.Marshal(kms); err != nil {
		return r, err
	}
	r.KeyIDs = k.KeyIDs()
	return r, nil
}

// SecretManifest is a Kubernetes Secret holding the keyset under key, for
// `kubectl apply -f`.
func SecretManifest(namespace, name, key string, keyset []byte) ([]byte, error) {
	return yaml.Marshal(map[string]any{
		"apiVersion": "v1",
		"kind":       "Secret",
		"metadata": map[string]any{
			"name":      name,
			"namespace": namespace,
			"labels":    map[string]string{"app.kubernetes.io/managed-by": "neo4jctl", "app.kubernetes.io/component": "neo4jctl-backup"},
		},
		"type": "Opaque",
		"data": map[string]string{key: base64.StdEncoding.EncodeToString(keyset)},
	})
}
