package neo4j_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/neo4jctl/neo4jctl/e2e/neo4jsim"
	"github.com/neo4jctl/neo4jctl/internal/neo4j"
)

// TestWriteDeadline: a write that does not answer within WriteTimeout
// returns at the deadline (it would otherwise hold apply's Lease for as
// long as the server keeps it), with an error that says its outcome is
// unknown; reads are not bound by it.
func TestWriteDeadline(t *testing.T) {
	sim := startSim(t, neo4jsim.Config{})
	cfg := neo4j.Config{URI: sim.URI("bolt"), Username: "neo4j", Password: testPassword, WriteTimeout: 300 * time.Millisecond}
	c := open(t, cfg)
	sim.SetLatency(2 * time.Second)
	defer sim.SetLatency(0)
	ctx := context.Background()

	start := time.Now()
	err := c.CreateDatabase(ctx, "slow", neo4j.CreateDatabase{})
	took := time.Since(start)
	if err == nil || !neo4j.IsWriteTimeout(err) {
		t.Fatalf("CREATE DATABASE past its deadline: got %v, want a write timeout", err)
	}
	if took > 1500*time.Millisecond {
		t.Errorf("the write returned after %s, want about its 300ms deadline", took)
	}
	if !strings.Contains(err.Error(), "SHOW SERVERS and SHOW DATABASES") {
		t.Errorf("error %q does not say the state must be read again", err)
	}
	// An idempotent write is bound the same way, retries included.
	if err := c.AlterDatabaseAccess(ctx, "neo4j", true); !neo4j.IsWriteTimeout(err) {
		t.Errorf("ALTER DATABASE SET ACCESS past its deadline: got %v, want a write timeout", err)
	}
	// A read waits for its answer.
	if _, err := c.Servers(ctx); err != nil {
		t.Errorf("SHOW SERVERS with latency 2s: %v (reads have no write deadline)", err)
	}
}
