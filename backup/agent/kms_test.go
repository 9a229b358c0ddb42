package agent

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/neo4jctl/neo4jctl/backup/crypt/kmsclient/kmsfake"
	"github.com/neo4jctl/neo4jctl/backup/ops"
)

// TestExecuteWithAWSKMSWrappedKeyset: with spec.backups.encryption.kms the
// agent unwraps the keyset through AWS KMS (Decrypt over HTTP: the AWS
// SDK's default chain, its endpoint from AWS_ENDPOINT_URL_KMS, credentials
// from the environment — none in the file) and stores the dump; a key
// that does not exist fails before any byte moves, naming the key. Before
// the KMS extensions were linked, any kms was refused at run time.
func TestExecuteWithAWSKMSWrappedKeyset(t *testing.T) {
	f := kmsfake.Start(t, kmsfake.AWSKeyARN("backups"))
	t.Setenv("AWS_ENDPOINT_URL_KMS", f.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDNEO4JCTLTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "neo4jctl-test-secret")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")

	d := t.TempDir()
	bucket, from := filepath.Join(d, "bucket"), filepath.Join(d, "from")
	for _, p := range []string{bucket, from} {
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write(t, filepath.Join(from, "neo4j.dump"), 3, 3<<20)
	file := func(key string) string {
		p := filepath.Join(d, key+".yaml")
		doc := fmt.Sprintf(`apiVersion: neo4jctl.io/v1alpha1
kind: Neo4jCluster
metadata: {name: graph}
spec:
  edition: community
  version: "5.26.0"
  auth: {secretRef: {name: neo4j-auth}}
  backups:
    storage: {url: "file://%s"}
    encryption:
      keysetSecret: {name: backup-keyset}
      kms: "aws-kms://%s"
`, bucket, kmsfake.AWSKeyARN(key))
		if err := os.WriteFile(p, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// The first keyset, wrapped by the KMS key, as `backup keys rotate
	// --new` makes it.
	kms, err := ops.DefaultKMS(context.Background(), "aws-kms://"+kmsfake.AWSKeyARN("backups"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := ops.RotateKeyset(nil, kms)
	if err != nil {
		t.Fatal(err)
	}
	keyset := filepath.Join(d, "keyset.json")
	if err := os.WriteFile(keyset, r.Keyset, 0o600); err != nil {
		t.Fatal(err)
	}

	var log bytes.Buffer
	o := Options{File: file("backups"), KeysetFile: keyset, SecretsDir: filepath.Join(d, "none"), Log: &log, NoPrune: true}
	o.FromDir = from
	res, err := Execute(context.Background(), o)
	if err != nil || len(res.Stored) != 1 {
		t.Fatalf("Execute: %v, %+v\n%s", err, res, log.String())
	}
	if res.Stored[0].KeyID != r.NewKeyID {
		t.Errorf("stored with key %s, want %s", res.Stored[0].KeyID, r.NewKeyID)
	}
	if calls := strings.Join(f.Calls(), "\n"); !strings.Contains(calls, "Decrypt") {
		t.Fatalf("the keyset was not unwrapped through KMS: %v", calls)
	}

	// A KMS key that does not exist: nothing stored, the key named.
	log.Reset()
	o.File = file("gone")
	res, err = Execute(context.Background(), o)
	if err == nil || len(res.Stored) != 0 || !strings.Contains(err.Error(), "does not exist") || !strings.Contains(err.Error(), kmsfake.AWSKeyARN("gone")) {
		t.Fatalf("missing KMS key: %v, %+v", err, res)
	}
	t.Logf("missing KMS key: %v", err)
}
