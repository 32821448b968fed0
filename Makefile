# authflow — make targets. `make test` is what CI (.ci/run) runs.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
FUZZTIME ?= 5s

.PHONY: all build deps jaeger test unit fuzz-smoke fuzz vet bpf-check example bench generate clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/authflow ./cmd/authflow

# System packages the tests need (Chromium for rendering Mermaid, tshark
# for cross-checking captures). Idempotent; needs root.
deps:
	./.ci/install-deps.sh

# Jaeger v2 all-in-one, for the end-to-end OpenTelemetry tests: built from
# the version tools/jaeger/go.mod pins into a cache outside the repository
# (${XDG_CACHE_HOME:-~/.cache}/authflow), only when it is not there (it
# takes minutes).
jaeger:
	./tools/jaeger/build.sh

# The whole test suite: dependencies, vet, the committed eBPF objects
# checked against their source, Jaeger, every test (with the race
# detector), then every fuzz target for a few seconds each.
test: deps vet bpf-check jaeger unit fuzz-smoke

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) vet ./...

unit:
	AUTHFLOW_REQUIRE_CHROMIUM=1 AUTHFLOW_REQUIRE_JAEGER=1 $(GO) test -race -timeout 60m -count=1 ./...

# The eBPF object and its Go bindings are committed (building authflow needs
# no C toolchain): regenerate them with bpf2go, the version go.mod pins, and
# fail if they differ from what is committed.
bpf-check:
	$(GO) generate ./capture/filetrace
	git diff --exit-code -- capture/filetrace

fuzz-smoke:
	FUZZTIME=$(FUZZTIME) ./.ci/fuzz.sh

# Longer fuzzing: make fuzz FUZZTIME=10m
fuzz:
	FUZZTIME=$(FUZZTIME) ./.ci/fuzz.sh

example:
	$(GO) run ./cmd/authflow analyze --example image-save

bench:
	./bench/bench.sh

generate:
	$(GO) generate ./...

clean:
	rm -rf bin
