# authflow — make targets. `make test` is what CI (.ci/run) runs.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
FUZZTIME ?= 5s

.PHONY: all build deps test unit fuzz-smoke fuzz vet example bench generate clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/authflow ./cmd/authflow

# System packages the tests need (Chromium for rendering Mermaid, tshark
# for cross-checking captures). Idempotent; needs root.
deps:
	./.ci/install-deps.sh

# The whole test suite: dependencies, vet, every test, then every fuzz
# target for a few seconds each.
test: deps vet unit fuzz-smoke

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) vet ./...

unit:
	AUTHFLOW_REQUIRE_CHROMIUM=1 $(GO) test -count=1 ./...

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
