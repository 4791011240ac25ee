# Drawbridge — the two commands a newcomer needs are `make demo` and `make test`.
#
# Needs Go 1.26 or later. Debian 12 has no such package: take the tarball
# from https://go.dev/dl/ and unpack it into /usr/local (→ /usr/local/go).
# `go` is looked up on PATH, then in /usr/local/go/bin.
GO        ?= $(or $(shell command -v go 2>/dev/null),$(wildcard /usr/local/go/bin/go),go)
BIN       ?= bin/drawbridge
DIST      ?= dist
# End-to-end tests start Prosody and redis-server; give them room.
TESTFLAGS ?= -race -timeout 20m

.PHONY: all build dist check-go modules test test-short demo clients report lint bench bench-cluster clean proto proto-check

all: build

# The version `drawbridge version` prints: git describe of the checkout
# (a tag, or the commit; -dirty with local changes).
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo unknown)

# check-go: a missing or too old Go is named with what to install, not
# left to `go: not found`.
check-go:
	@if ! command -v $(GO) >/dev/null 2>&1; then \
		echo "make: no Go toolchain: $(GO) not found (looked for go on PATH, then /usr/local/go/bin/go)." >&2; \
		echo "  Drawbridge needs Go 1.26 or later; Debian 12 has no package for it." >&2; \
		echo "  Install it from https://go.dev/dl/ :" >&2; \
		echo "    curl -LO https://go.dev/dl/go1.26.8.linux-amd64.tar.gz" >&2; \
		echo "    sudo tar -C /usr/local -xzf go1.26.8.linux-amd64.tar.gz" >&2; \
		echo "  or pass GO=/path/to/go. Release binaries (make dist) need no Go." >&2; \
		exit 1; \
	fi
	@v=$$($(GO) env GOVERSION 2>/dev/null); \
	case "$$v" in go1.2[6-9]*|go1.[3-9][0-9]*|go[2-9]*) ;; \
	*) echo "make: $(GO) is $${v:-unusable}; Drawbridge needs Go 1.26 or later (https://go.dev/dl/)." >&2; exit 1;; esac

# modules: the first build downloads the dependencies; say so instead of a
# silent wait (GOPROXY=off: does the module cache have them already?).
modules: check-go
	@GOPROXY=off $(GO) list -deps ./cmd/drawbridge >/dev/null 2>&1 || \
		{ echo "downloading modules (first run: go mod download)"; $(GO) mod download; }

build: modules
	@echo "building $(BIN) (version $(VERSION); a first build compiles every dependency: minutes on a cold machine)"
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-X main.buildVersion=$(VERSION)" -o $(BIN) ./cmd/drawbridge

# Release binaries for operators without a Go toolchain: static
# (CGO off), reproducible (-trimpath, no VCS stamp, no build id: the same
# commit and Go version give the same bytes), the version from git describe
# as in `make build`; dist/SHA256SUMS lists their checksums
# (verify with `sha256sum -c SHA256SUMS` in dist/).
DIST_PLATFORMS ?= linux/amd64 linux/arm64
dist: modules
	@mkdir -p $(DIST)
	@set -e; for p in $(DIST_PLATFORMS); do \
		os=$${p%%/*}; arch=$${p##*/}; out=$(DIST)/drawbridge-$(VERSION)-$$os-$$arch; \
		echo "building $$out"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -buildvcs=false \
			-ldflags "-s -w -buildid= -X main.buildVersion=$(VERSION)" -o $$out ./cmd/drawbridge; \
	done
	@cd $(DIST) && rm -f SHA256SUMS && sha256sum drawbridge-$(VERSION)-* > SHA256SUMS
	@echo "wrote $(DIST)/SHA256SUMS:"; cat $(DIST)/SHA256SUMS

# Everything, including the end-to-end tests against a real Prosody and a
# real redis-server (install them with .ci/run or the packages it names).
# With ALLOWED_SKIPS (a file; CI sets .ci/allowed-skips), a test that
# skips without a line there fails the run (.ci/skipcheck.go).
ALLOWED_SKIPS ?=
test: modules
	$(GO) vet ./...
ifeq ($(ALLOWED_SKIPS),)
	$(GO) test $(TESTFLAGS) ./...
else
	GO=$(GO) $(GO) run .ci/skipcheck.go -allow $(ALLOWED_SKIPS) -- $(TESTFLAGS) ./...
endif

# Unit tests only (no external servers: their tests skip under -short).
test-short: modules
	$(GO) test -short ./...

demo: build
	bash deploy/demo/demo.sh

# Gajim (a desktop client) against the demo, under Xvfb: registers,
# links, accepts the contacts, chats with the Echo Bot; screenshots, Gajim's
# log and results.json land in clients-out/gajim. Not part of make test (a
# GUI run takes about a minute). Profanity runs in make test (TestProfanity).
clients: build
	bash testdata/clients/gajim.sh

# The DMA Article 7 evidence report (README "The evidence report"):
# report-out/report.html and report-out/report.pdf. Needs prosody, ejabberd
# and chromium.
report: build
	$(BIN) report --out report-out

# staticcheck is a tool dependency pinned in go.mod (go get -tool ...):
# after `go mod download` this runs without the network.
lint: check-go
	@test -z "$$(gofmt -l .)" || (echo "gofmt needed:"; gofmt -l .; exit 1)
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

# Fuzzing: each target runs for FUZZTIME (CI keeps it short). A crash
# leaves its input in the package's testdata/fuzz/<target>/ and fails;
# commit that file: plain `go test` then replays it as a regression test.
FUZZTIME ?= 10s
FUZZ_TARGETS := \
	./xmppcomponent/stream:FuzzStreamReader \
	./xmppcomponent/stream:FuzzLimiterDecoder \
	./xmppcomponent/stream:FuzzLeanDecoder \
	./xmppcomponent:FuzzNextPacket \
	./xmppcomponent:FuzzBodyWithout \
	./xmppcomponent:FuzzAddressing \
	./xmppcomponent/stream:FuzzMarshalFast \
	./gateway/config:FuzzParse \
	./gateway/delivery:FuzzAppendEnvelope \
	./adapters/remote:FuzzHostDecode

.PHONY: fuzz
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; fn=$${t##*:}; \
		echo "fuzz $$pkg $$fn ($(FUZZTIME))"; \
		bash .ci/fuzz.sh $(GO) $$pkg $$fn $(FUZZTIME); \
	done

# One package at a time (-p 1): packages benchmarked side by side would
# share the cores and skew each other's figures.
# The output is kept in BENCH_OUT and ends with the summary tables of
# BENCHMARKS.md (msgs/s, CPU per message, p50/p99, ratios to echo4, idle
# accounts), made by .ci/benchtable.go.
BENCH_OUT ?= bench.out
bench:
	@{ $(GO) test -p 1 -run '^$$' -bench . -benchmem ./gateway/... ./xmppcomponent/... ./adapters/... ./cmd/... 2>&1; \
		echo $$? > $(BENCH_OUT).rc; } | tee $(BENCH_OUT)
	@echo; $(GO) run .ci/benchtable.go < $(BENCH_OUT)
	@rc=$$(cat $(BENCH_OUT).rc); rm -f $(BENCH_OUT).rc; exit $$rc

# Takeover of several instances (README, "Running several instances";
# BENCHMARKS.md): three processes on real Redis and Prosody, the active one
# stopped 10 times with SIGKILL and 10 with SIGTERM under a steady chat;
# prints p50/p99 of the takeover time, the gap in delivered messages and
# the messages bounced or lost. Then the throughput of a sharded cluster
# of 1, 2 and 3 processes beside the single process on Redis
# (BenchmarkShardedLoad: msgs/s, p50/p99, CPU per message of the gateway
# processes, Prosody and redis-server, Redis commands per message).
bench-cluster:
	$(GO) test -run '^$$' -bench '^Benchmark(Cluster|Sharded)Takeover$$' -benchtime 1x -timeout 30m ./cmd/drawbridge/
	$(GO) test -run '^$$' -bench '^BenchmarkShardedLoad$$' -benchtime 1x -timeout 30m ./cmd/drawbridge/

# Regenerate the management API's Go code and OpenAPI document from
# proto/drawbridge/admin/v1 (admin.proto + admin_http.yaml), and the
# adapter protocol's Go code from proto/drawbridge/adapter/v1 (and its Python
# messages for examples/adapter-python). Needs Debian's
# protoc (apt-get install protobuf-compiler libprotobuf-dev: the well-known
# types live in /usr/include); the plugins are the Go tool dependencies
# pinned in go.mod. The output is committed.
PROTO_INCLUDE ?= /usr/include
PROTO_TOOLS   := $(CURDIR)/bin/tools
ADMIN_API     := proto/drawbridge/admin/v1
# The out-of-process adapter protocol (gRPC only, no REST face).
ADAPTER_API   := proto/drawbridge/adapter/v1
proto:
	GOBIN=$(PROTO_TOOLS) $(GO) install tool
	protoc -I proto -I $(PROTO_INCLUDE) \
		--plugin=protoc-gen-go=$(PROTO_TOOLS)/protoc-gen-go \
		--plugin=protoc-gen-go-grpc=$(PROTO_TOOLS)/protoc-gen-go-grpc \
		--plugin=protoc-gen-grpc-gateway=$(PROTO_TOOLS)/protoc-gen-grpc-gateway \
		--plugin=protoc-gen-openapiv2=$(PROTO_TOOLS)/protoc-gen-openapiv2 \
		--go_out=proto --go_opt=paths=source_relative \
		--go-grpc_out=proto --go-grpc_opt=paths=source_relative \
		--grpc-gateway_out=proto --grpc-gateway_opt=paths=source_relative \
		--grpc-gateway_opt=grpc_api_configuration=$(ADMIN_API)/admin_http.yaml \
		--openapiv2_out=proto \
		--openapiv2_opt=grpc_api_configuration=$(ADMIN_API)/admin_http.yaml \
		--openapiv2_opt=openapi_configuration=$(ADMIN_API)/admin_openapi.yaml \
		--openapiv2_opt=json_names_for_fields=false \
		--openapiv2_opt=preserve_rpc_order=true \
		$(ADMIN_API)/admin.proto
	protoc -I proto -I $(PROTO_INCLUDE) \
		--plugin=protoc-gen-go=$(PROTO_TOOLS)/protoc-gen-go \
		--plugin=protoc-gen-go-grpc=$(PROTO_TOOLS)/protoc-gen-go-grpc \
		--go_out=proto --go_opt=paths=source_relative \
		--go-grpc_out=proto --go-grpc_opt=paths=source_relative \
		$(ADAPTER_API)/adapter.proto
	protoc -I proto -I $(PROTO_INCLUDE) --python_out=examples/adapter-python $(ADAPTER_API)/adapter.proto

# CI: the committed generated code matches its sources.
proto-check: proto
	@git diff --exit-code -- proto examples/adapter-python || (echo "generated code is stale: run make proto and commit"; exit 1)
	@test -z "$$(git status --porcelain --untracked-files=all -- proto examples/adapter-python)" || \
		(echo "untracked generated files:"; git status --porcelain --untracked-files=all -- proto examples/adapter-python; exit 1)

clean:
	rm -rf bin $(DIST)
