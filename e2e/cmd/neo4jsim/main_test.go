package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"
)

func TestRunNeedsPassword(t *testing.T) {
	var stderr bytes.Buffer
	code := run(context.Background(), nil, io.Discard, &stderr, func(string) string { return "" })
	if code != 2 || !strings.Contains(stderr.String(), EnvPassword) {
		t.Errorf("got code %d, stderr %q; want 2 naming $%s", code, stderr.String(), EnvPassword)
	}
}

func TestRunServesUntilCancelled(t *testing.T) {
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"--servers=2", "--password-file=" + pwFile, "--advertise=a.example:7687,b.example:7687"},
			pw, io.Discard, func(string) string { return "ignored-when-file-given" })
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	var listens []string
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 1 && f[0] == "ready" {
			break
		}
		if len(f) != 4 || f[0] != "server" {
			t.Fatalf("unexpected line %q", sc.Text())
		}
		listens = append(listens, f[3])
	}
	go io.Copy(io.Discard, pr)
	if len(listens) != 2 {
		t.Fatalf("got %d servers, want 2", len(listens))
	}
	d, err := neo4j.NewDriverWithContext("bolt://"+listens[1], neo4j.BasicAuth("neo4j", "from-file", ""))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close(context.Background())
	res, err := neo4j.ExecuteQuery(ctx, d, "SHOW SERVERS YIELD address", nil, neo4j.EagerResultTransformer,
		neo4j.ExecuteQueryWithDatabase("system"))
	if err != nil {
		t.Fatalf("query: %v", err)
	}
	if len(res.Records) != 2 {
		t.Errorf("got %d rows, want 2", len(res.Records))
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit code %d, want 0", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("run did not return after cancellation")
	}
}
