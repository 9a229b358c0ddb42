# neo4jctl — see README.md. Every target works on a fresh machine: what a
# target needs (the test control plane, a real Neo4j, goreleaser) is built
# from the package registries into ~/.cache/neo4jctl and reused.

SHELL        := /usr/bin/env bash
GO           ?= go
BIN          := bin/neo4jctl
AGENT_BIN    := bin/neo4jctl-backup-agent
VERSION      ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT       ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo none)
DATE         ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS      := -s -w -X github.com/neo4jctl/neo4jctl/cmd.version=$(VERSION) \
                -X github.com/neo4jctl/neo4jctl/cmd.commit=$(COMMIT) \
                -X github.com/neo4jctl/neo4jctl/cmd.date=$(DATE) \
                -X github.com/neo4jctl/neo4jctl/manifests.releaseVersion=$(VERSION)
CACHE        ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/neo4jctl
GORELEASER   := $(CACHE)/tools/goreleaser-v2.15.1
HELM_VERSION := v3.21.4
HELM         := $(CACHE)/tools/helm-$(HELM_VERSION)
FUZZTIME     ?= 20s

.PHONY: all build test unit lint vet testenv helm demo contract fuzz bench release-check clean

all: build

build: ## Build bin/neo4jctl and bin/neo4jctl-backup-agent (the backup Jobs' agent, docs/backups.md)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) .
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '-s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)' -o $(AGENT_BIN) ./cmd/neo4jctl-backup-agent

testenv: ## Build the test control plane (etcd, kube-apiserver, KCM, scheduler, kwok) into the cache
	e2e/testenv/build.sh

unit: ## Unit tests only (no servers)
	$(GO) test -short ./...

vet:
	$(GO) vet ./...

lint: vet ## gofmt + go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# test runs everything CI runs: lint, unit + integration tests against one
# shared local control plane, the Neo4j contract suite against a real Neo4j
# Community server, a short fuzz run and the goreleaser config check
# (e2e/release: the pinned release's schema; `goreleaser check` itself where
# release-check built it). e2e/scripts/ci.sh orders them for a fresh 2-core
# machine (docs/ci.md): the control plane's build first, the tools under nice
# beside it, then the tests with the other checks under nice beside them.
test:
	MAKE="$(MAKE)" e2e/scripts/ci.sh

.PHONY: storage-tools
storage-tools: ## Build/install the storage servers of the backup tests (versitygw, fake-gcs-server, Azurite) into the cache
	e2e/storage/install.sh

contract: ## Contract suite: the adapter against a real Neo4j Community server and the simulator
	e2e/scripts/contract.sh

fuzz: ## Fuzz the cluster-file loader briefly
	$(GO) test -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $(FUZZTIME) ./internal/clusterfile

demo: build testenv ## The embedded default: local control plane + simulator, then the quickstart
	e2e/scripts/demo.sh

bench: build testenv ## Benchmarks; results go to docs/benchmarks.md
	e2e/scripts/bench.sh

$(GORELEASER):
	mkdir -p $(dir $@)
	GOBIN=$(CACHE)/tools/tmp $(GO) install github.com/goreleaser/goreleaser/v2@v2.15.1
	mv $(CACHE)/tools/tmp/goreleaser $@

# helm (for the import tests: they install the official Neo4j chart) is
# built from the Go module proxy in a scratch module, never through the
# project's go.mod: neo4jctl reads Helm's records without the library.
# First build: about 3.3 CPU-minutes with an empty build cache (measured
# 2m46s user + 34s sys), so 2-4 minutes on an idle 2-core machine.
$(HELM):
	HELM_VERSION=$(HELM_VERSION) e2e/scripts/helm.sh $@

helm: $(HELM) ## Build the pinned helm CLI into the cache (import tests)

release-check: $(GORELEASER) ## goreleaser check of .goreleaser.yaml
	$(GORELEASER) check

clean:
	rm -rf bin dist

# image assembles the watch container image without a Docker daemon
# (go-containerregistry): empty base, the static binary, CA certificates,
# non-root user 65532. Load it with `docker load -i dist/neo4jctl-image.tar`.
IMAGE        ?= ghcr.io/neo4jctl/neo4jctl:$(VERSION)
.PHONY: image
image: build ## Build the container image: dist/neo4jctl-image (OCI layout) and dist/neo4jctl-image.tar
	mkdir -p dist
	rm -rf dist/neo4jctl-image
	$(GO) run ./e2e/image -binary $(BIN) -agent-binary $(AGENT_BIN) -layout dist/neo4jctl-image -tarball dist/neo4jctl-image.tar -tag $(IMAGE) -version $(VERSION) -revision $(COMMIT)
