// Command image assembles neo4jctl's container image without a Docker
// daemon and without pulling a base image: an empty base, one layer with
// the static neo4jctl binary at /usr/local/bin/neo4jctl, the CA
// certificates, and /etc/passwd and /etc/group naming a non-root user
// 65532; a config running as that user with neo4jctl as the entrypoint.
// It writes an OCI image layout directory and/or a tarball that
// `docker load`, `podman load`, `crane push` and kind load.
//
//	go run ./e2e/image -binary bin/neo4jctl -layout dist/image -tarball dist/image.tar -tag ghcr.io/neo4jctl/neo4jctl:dev
package main
