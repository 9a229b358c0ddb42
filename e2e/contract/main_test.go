package contract

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/neo4jctl/neo4jctl/e2e/neo4jreal"
)

// One real server serves the whole package: a JVM start costs 10-30 s on
// two shared cores, and no test changes its state in a way another reads.
var (
	realOnce   sync.Once
	realServer *neo4jreal.Server
	realErr    error
)

// realNeo4j returns the shared real server, starting it on first use, or
// skips/fails t as neo4jreal.StartT would.
func realNeo4j(t *testing.T) *neo4jreal.Server {
	t.Helper()
	if testing.Short() {
		t.Skip("contract suite starts a real Neo4j; skipped with -short")
	}
	realOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 40*time.Minute)
		defer cancel()
		start := time.Now()
		realServer, realErr = neo4jreal.Start(ctx, neo4jreal.Options{})
		if realErr == nil {
			fmt.Printf("contract: real Neo4j %s %s at %s: launcher %s (built=%v), server start %s, total %s\n",
				realServer.Version, realServer.Edition, realServer.BoltURI,
				realServer.Launcher.Duration.Round(time.Millisecond), realServer.Launcher.Built,
				realServer.StartDuration.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
		}
	})
	if realErr != nil {
		neo4jreal.HandleStartError(t, realErr)
	}
	return realServer
}

func TestMain(m *testing.M) {
	code := m.Run()
	if realServer != nil {
		if err := realServer.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "contract: stop real Neo4j: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
	}
	os.Exit(code)
}
