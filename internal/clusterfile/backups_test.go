package clusterfile

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const backupBase = "apiVersion: neo4jctl.io/v1alpha1\nkind: Neo4jCluster\nmetadata: {name: g}\nspec:\n  edition: enterprise\n  version: \"5.26.0\"\n  acceptLicenseAgreement: \"yes\"\n  servers: 3\n  auth: {secretRef: {name: s}}\n  backups:\n    encryption: {keysetSecret: {name: k}}\n"

// TestStorageURLCredentialsNeverEchoed: a URL refused for holding a
// credential is reported without the credential, whatever its place.
func TestStorageURLCredentialsNeverEchoed(t *testing.T) {
	const canary = "canary-Pa55word"
	for _, u := range []string{
		"s3://AKIA:" + canary + "@bucket/p",
		"s3://bucket/p?region=x&aws_secret_access_key=" + canary,
		"azblob://c/p?sv=2022&sig=" + canary,
		"s3://bucket/p?X-Amz-Credential=" + canary,
		"gs://bucket/p?token=" + canary,
		"s3://bucket/p?Password=" + canary,
		"https://" + canary + "@example.com/x",
		"s3://bucket/%zz?k=" + canary,
	} {
		t.Run(u[:10], func(t *testing.T) {
			data := backupBase + "    storage: {url: \"" + u + "\", credentialsSecret: c}\n"
			_, err := Load("t.yaml", []byte(data))
			if err == nil {
				t.Fatalf("got no error for %s, want a refusal", u)
			}
			if strings.Contains(err.Error(), canary) || strings.Contains(err.Error(), "AKIA") {
				t.Errorf("the error quotes the credential:\n%v", err)
			}
			if !strings.Contains(err.Error(), "spec.backups.storage.url") {
				t.Errorf("got %v, want an error at spec.backups.storage.url", err)
			}
		})
	}
}

func TestStorageURLsAccepted(t *testing.T) {
	for _, loc := range []string{
		"{url: \"s3://b/p?region=eu-west-1&endpoint=http://127.0.0.1:9000&use_path_style=true\", credentialsSecret: c}",
		"{url: \"gs://b\", workloadIdentity: true}",
		"{url: \"azblob://c/p?protocol=http&domain=127.0.0.1:10000\", credentialsSecret: c}",
		"{url: \"file:///var/backups\"}",
		"{url: \"s3://public/p?anonymous=true\"}",
	} {
		t.Run(loc, func(t *testing.T) {
			if _, err := Load("t.yaml", []byte(backupBase+"    storage: "+loc+"\n")); err != nil {
				t.Errorf("got %v, want valid", err)
			}
		})
	}
}

func TestParseAge(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{in: "", want: 0},
		{in: "30m", want: 30 * time.Minute},
		{in: "7d", want: 7 * 24 * time.Hour},
		{in: "2w", want: 14 * 24 * time.Hour},
		{in: "1y", want: 365 * 24 * time.Hour},
		{in: "1d12h", want: 36 * time.Hour},
		{in: "7 days", bad: true},
		{in: "d", bad: true},
		{in: "-1d", bad: true},
		{in: "99999999999y", bad: true},
	}
	for _, tt := range tests {
		got, err := ParseAge(tt.in)
		if (err != nil) != tt.bad || got != tt.want {
			t.Errorf("ParseAge(%q): got %v, %v, want %v (error %v)", tt.in, got, err, tt.want, tt.bad)
		}
	}
}

func TestRetentionFor(t *testing.T) {
	i := func(n int32) *int32 { return &n }
	r := &BackupRetention{Daily: i(7), Weekly: i(4), MinAge: "1d",
		Databases: []DatabaseRetention{{Name: "system", Daily: i(0), MaxAge: "30d"}}}
	if diff := cmp.Diff(RetentionPolicy{Daily: i(7), Weekly: i(4), MinAge: 24 * time.Hour}, r.For("neo4j")); diff != "" {
		t.Errorf("neo4j (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(RetentionPolicy{Daily: i(0), Weekly: i(4), MinAge: 24 * time.Hour, MaxAge: 30 * 24 * time.Hour}, r.For("system")); diff != "" {
		t.Errorf("system (-want +got):\n%s", diff)
	}
}

func TestBackupDefaults(t *testing.T) {
	c, err := Load("t.yaml", []byte(backupBase+"    storage: {url: \"file:///b\"}\n    schedule: {full: \"@daily\"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	b := c.Spec.Backups
	got := []any{b.Schedule.Databases, *b.Schedule.Compress, b.Schedule.TimeZone, b.Encryption.KeysetSecret.Key}
	want := []any{[]string{"*"}, true, "UTC", "keyset.json"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
}

func TestSchemaRejectsBackups(t *testing.T) {
	s := compileSchema(t)
	for name, data := range map[string]string{
		"storage url missing": backupBase + "    storage: {credentialsSecret: c}\n",
		"negative count":      backupBase + "    storage: {url: \"file:///b\"}\n    retention: {daily: -1}\n",
		"unknown field":       backupBase + "    storage: {url: \"file:///b\"}\n    schedule: {cron: \"@daily\"}\n",
	} {
		t.Run(name, func(t *testing.T) {
			if err := s.Validate(instance(t, []byte(data))); err == nil {
				t.Errorf("got valid, want the schema to refuse it")
			}
		})
	}
}
