// Package storage starts real object-storage servers for the backup/blob
// tests — versitygw (S3, posix backend), fake-gcs-server (GCS) and Azurite
// (Azure Blob) — each on a free loopback port in a temporary directory,
// waits until it answers, and stops it when the test ends. The servers are
// built or installed once by install.sh (`make storage-tools`) into
// ~/.cache/neo4jctl/tools and reused; a missing one is installed on first
// use. Under -short the tests that need them skip; otherwise they run.
//
// It also has Proxy, a small reverse proxy that injects faults at the HTTP
// layer (5xx answers, a connection reset in the middle of a request body,
// slow responses) between a storage client and a server.
package storage
