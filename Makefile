# Drawbridge — the two commands a newcomer needs are `make demo` and `make test`.
GO        ?= go
BIN       := bin/drawbridge
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
# End-to-end tests start Prosody and redis-server; give them room.
TESTFLAGS ?= -race -timeout 20m

.PHONY: all build test test-short demo lint bench clean

all: build

build:
	$(GO) build -trimpath -o $(BIN) ./cmd/drawbridge

# Everything, including the end-to-end tests against a real Prosody and a
# real redis-server (install them with .ci/run or the packages it names).
test:
	$(GO) vet ./...
	$(GO) test $(TESTFLAGS) ./...

# Unit tests only (no external servers).
test-short:
	$(GO) test -short ./...

demo: build
	bash deploy/demo/demo.sh

lint:
	@test -z "$$(gofmt -l .)" || (echo "gofmt needed:"; gofmt -l .; exit 1)
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./gateway/... ./xmppcomponent/... ./adapters/... ./cmd/...

clean:
	rm -rf bin
