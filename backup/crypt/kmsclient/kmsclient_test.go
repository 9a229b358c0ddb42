package kmsclient

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"google.golang.org/api/option"

	"github.com/neo4jctl/neo4jctl/backup/crypt"
	"github.com/neo4jctl/neo4jctl/backup/crypt/kmsclient/kmsfake"
)

// awsEnv points the AWS SDK's default chain at the fake: the standard
// service endpoint variable, static test credentials, no shared files and
// no instance metadata.
func awsEnv(t *testing.T, f *kmsfake.Server) {
	t.Setenv("AWS_ENDPOINT_URL_KMS", f.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDNEO4JCTLTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "neo4jctl-test-secret")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// roundTrip wraps a new keyset with kms, checks that no key material is
// in clear, unwraps it and decrypts what the original encrypted.
func roundTrip(t *testing.T, kms crypt.KMS) {
	t.Helper()
	k, err := crypt.NewKeyset()
	if err != nil {
		t.Fatal(err)
	}
	wrapped, err := k.Marshal(kms)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	clear, err := k.Marshal(crypt.Cleartext)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(wrapped, []byte(`"encryptedKeyset"`)) || bytes.Contains(wrapped, []byte(`"keyData"`)) {
		t.Fatalf("wrapped keyset is not Tink's envelope: %s", wrapped)
	}
	for _, part := range strings.Split(string(clear), `"`) {
		if len(part) >= 40 && !strings.Contains(part, "type.googleapis.com") && bytes.Contains(wrapped, []byte(part)) {
			t.Fatalf("key material in clear in the wrapped keyset")
		}
	}
	back, err := crypt.LoadKeyset(wrapped, kms)
	if err != nil {
		t.Fatalf("LoadKeyset: %v", err)
	}
	if back.PrimaryKeyID() != k.PrimaryKeyID() {
		t.Fatalf("primary %s, want %s", back.PrimaryKeyID(), k.PrimaryKeyID())
	}
	ad := crypt.AssociatedData("graph", "neo4j", "obj")
	var ct bytes.Buffer
	if _, _, err := k.EncryptStream(&ct, strings.NewReader("a dump"), ad); err != nil {
		t.Fatal(err)
	}
	var pt bytes.Buffer
	if _, err := back.DecryptTo(&pt, &ct, ad, crypt.DecryptOptions{StagingDir: t.TempDir()}); err != nil || pt.String() != "a dump" {
		t.Fatalf("decrypt with the unwrapped keyset: %q, %v", pt.String(), err)
	}
	// A cleartext keyset given a KMS, and the reverse, are refused.
	if _, err := crypt.LoadKeyset(clear, kms); !errors.Is(err, crypt.ErrKeyset) {
		t.Errorf("cleartext keyset with a KMS: %v", err)
	}
	if _, err := crypt.LoadKeyset(wrapped, crypt.Cleartext); !errors.Is(err, crypt.ErrKeyset) {
		t.Errorf("wrapped keyset as cleartext: %v", err)
	}
}

// TestAWSKMSOverHTTP: the keyset is wrapped and unwrapped by AWS KMS
// Encrypt/Decrypt calls the AWS SDK sends over HTTP (SigV4-signed, the
// endpoint from AWS_ENDPOINT_URL_KMS); a key that does not exist and a
// keyset wrapped by another key fail with the key's URI and what to check.
func TestAWSKMSOverHTTP(t *testing.T) {
	f := kmsfake.Start(t, kmsfake.AWSKeyARN("backups"), kmsfake.AWSKeyARN("other"))
	awsEnv(t, f)
	uri := "aws-kms://" + kmsfake.AWSKeyARN("backups")
	kms, err := Open(context.Background(), uri)
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, kms)
	calls := strings.Join(f.Calls(), "\n")
	if !strings.Contains(calls, "Encrypt "+kmsfake.AWSKeyARN("backups")) || !strings.Contains(calls, "Decrypt "+kmsfake.AWSKeyARN("backups")) {
		t.Fatalf("KMS calls:\n%s", calls)
	}

	// A key that does not exist.
	missing := "aws-kms://" + kmsfake.AWSKeyARN("no-such-key")
	mk, err := Open(context.Background(), missing)
	if err != nil {
		t.Fatal(err)
	}
	k, _ := crypt.NewKeyset()
	_, err = k.Marshal(mk)
	if err == nil || !strings.Contains(err.Error(), missing) || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("missing key on wrap: %v", err)
	}
	wrapped, err := k.Marshal(kms)
	if err != nil {
		t.Fatal(err)
	}
	_, err = crypt.LoadKeyset(wrapped, mk)
	if !errors.Is(err, crypt.ErrKeyset) || !strings.Contains(err.Error(), "does not exist") || !strings.Contains(err.Error(), missing) {
		t.Fatalf("missing key on unwrap: %v", err)
	}
	t.Logf("missing key: %v", err)

	// The keyset was wrapped by another key.
	ok, err := Open(context.Background(), "aws-kms://"+kmsfake.AWSKeyARN("other"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := crypt.LoadKeyset(wrapped, ok); !errors.Is(err, crypt.ErrKeyset) || !strings.Contains(err.Error(), "another KMS key") {
		t.Fatalf("other key on unwrap: %v", err)
	}
}

// TestAWSKMSWithoutCredentials: no credentials anywhere is a clear error,
// not a hang on instance metadata.
func TestAWSKMSWithoutCredentials(t *testing.T) {
	f := kmsfake.Start(t, kmsfake.AWSKeyARN("backups"))
	awsEnv(t, f)
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	kms, err := Open(context.Background(), "aws-kms://"+kmsfake.AWSKeyARN("backups"))
	if err != nil {
		t.Fatal(err)
	}
	k, _ := crypt.NewKeyset()
	if _, err := k.Marshal(kms); err == nil || !strings.Contains(err.Error(), "no credentials for AWS KMS") {
		t.Fatalf("without credentials: %v", err)
	}
	if len(f.Calls()) != 0 {
		t.Fatalf("an unsigned call reached KMS: %v", f.Calls())
	}
}

// TestCloudKMSOverHTTP: the same through Cloud KMS's REST API (the
// endpoint given as the Google API client option; no credentials needed
// by the fake), CRC32C checks included.
func TestCloudKMSOverHTTP(t *testing.T) {
	f := kmsfake.Start(t, kmsfake.GCPKeyName("backups"))
	opts := []option.ClientOption{option.WithEndpoint(f.URL + "/"), option.WithoutAuthentication()}
	kms, err := openGCP(context.Background(), "gcp-kms://"+kmsfake.GCPKeyName("backups"), opts...)
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, kms)
	if calls := strings.Join(f.Calls(), "\n"); !strings.Contains(calls, "Encrypt "+kmsfake.GCPKeyName("backups")) || !strings.Contains(calls, "Decrypt "+kmsfake.GCPKeyName("backups")) {
		t.Fatalf("KMS calls:\n%s", calls)
	}
	missing := "gcp-kms://" + kmsfake.GCPKeyName("gone")
	mk, err := openGCP(context.Background(), missing, opts...)
	if err != nil {
		t.Fatal(err)
	}
	k, _ := crypt.NewKeyset()
	if _, err := k.Marshal(mk); err == nil || !strings.Contains(err.Error(), "does not exist") || !strings.Contains(err.Error(), missing) {
		t.Fatalf("missing key: %v", err)
	}
}

func TestOpenRefusesOtherSchemes(t *testing.T) {
	if _, err := Open(context.Background(), "vault://transit/keys/x"); err == nil || !strings.Contains(err.Error(), "aws-kms://") {
		t.Fatalf("vault:// = %v", err)
	}
}
