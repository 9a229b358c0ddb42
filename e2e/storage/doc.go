// Package storage starts real object-storage servers for the backup/blob
// tests — versitygw (S3, posix backend), fake-gcs-server (GCS) and Azurite
// (Azure Blob) — each on a free loopback port in a temporary directory,
// waits until it answers, and stops it when the test ends. The servers are
// built or installed once by install.sh (`make storage-tools`) into
// ~/.cache/neo4jctl/tools and reused; a missing one is installed on first
// use. Under -short the tests that need them skip; otherwise they run.
//
// Why versitygw rather than gofakes3 for S3: create-if-absent needs the
// server to honour If-None-Match: * on PutObject and on
// CompleteMultipartUpload; gofakes3 v1.2.0 checks it on PutObject only and
// keeps multipart parts in memory, versitygw's posix backend does both
// checks and spools parts to disk (TestS3ServerHonoursIfNoneMatch).
//
// Measured first builds on this project's 2-core machine (shared, loaded):
// fake-gcs-server 75 s / 33 MB, Azurite (npm) 44 s / 186 MB, versitygw
// 854 s wall (3 min CPU for the three Go builds) / 59 MB; later runs reuse
// them in under a second.
//
// It also has Proxy, a small reverse proxy that injects faults at the HTTP
// layer (5xx answers, a connection reset in the middle of a request body,
// slow responses) between a storage client and a server.
package storage
