package ops

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
)

func TestLoggerBlanksSecrets(t *testing.T) {
	var buf bytes.Buffer
	l := NewLogger(&buf, "canary-Pa55word", "abc")
	l.AddSecret("canary-Pa55word-longer")
	l.Printf("open: 403 for key canary-Pa55word-longer and canary-Pa55word, abc is short")
	err := l.Errorf("wrapped: %w", errors.New("token canary-Pa55word"))
	got := buf.String() + err.Error()
	if strings.Contains(got, "canary") {
		t.Errorf("a secret was printed: %q", got)
	}
	if !strings.Contains(got, "*** and ***") || !strings.Contains(got, "abc is short") {
		t.Errorf("got %q, want secrets blanked whole and short values left alone", got)
	}
}

// TestCredentials: a mounted Secret is read from its files (not the
// volume's dot entries); the storage's Secret may come from the
// environment, a copy's may not.
func TestCredentials(t *testing.T) {
	dir := t.TempDir()
	mounted := filepath.Join(dir, "copy-creds")
	if err := os.MkdirAll(filepath.Join(mounted, "..2026_12_07"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mounted, "AWS_SECRET_ACCESS_KEY"), []byte("from-file"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "from-env"}
	s := &Session{Spec: &clusterfile.Backups{Storage: clusterfile.BackupLocation{URL: "s3://b", CredentialsSecret: "storage-creds"}},
		opts: Options{SecretsDir: dir, Getenv: func(k string) string { return env[k] }}}

	got, err := s.credentials(clusterfile.BackupLocation{CredentialsSecret: "copy-creds"})
	if err != nil || len(got) != 1 || string(got["AWS_SECRET_ACCESS_KEY"]) != "from-file" {
		t.Errorf("mounted: got %v, %v", got, err)
	}
	got, err = s.credentials(s.Spec.Storage)
	if err != nil || string(got["AWS_SECRET_ACCESS_KEY"]) != "from-env" || string(got["AWS_ACCESS_KEY_ID"]) != "id" {
		t.Errorf("storage from the environment: got %v, %v", got, err)
	}
	if _, err := s.credentials(clusterfile.BackupLocation{CredentialsSecret: "unmounted-copy"}); err == nil || !strings.Contains(err.Error(), "collide") {
		t.Errorf("an unmounted copy Secret: got %v, want a refusal", err)
	}
	if got, err := s.credentials(clusterfile.BackupLocation{WorkloadIdentity: true}); err != nil || got != nil {
		t.Errorf("workload identity: got %v, %v, want no credentials", got, err)
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"s3://b/p?region=x":             "s3://b/p?region=x",
		"s3://AKIA:secret@b/p?region=x": "s3://b/p",
		"azblob://c/p?sig=abc&sv=2020":  "azblob://c/p",
	} {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%q): got %q, want %q", in, got, want)
		}
	}
}
