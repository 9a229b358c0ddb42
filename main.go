// Command neo4jctl plans and applies Neo4j clusters on Kubernetes.
package main

import (
	"os"

	"github.com/neo4jctl/neo4jctl/cmd"
)

func main() { os.Exit(cmd.Main()) }
