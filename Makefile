# Numerek. `make demo` runs the system on embedded defaults; `make test` runs
# every test. Both install the Debian packages they need (scripts/install-deps.sh).
GO ?= go
BIN := bin
TEST_TIMEOUT ?= 18m

.PHONY: all build test bench demo lint deps fuzz clean

all: build

deps:
	bash scripts/install-deps.sh
	cd web/e2e && npm ci --no-audit --no-fund --loglevel=error

build:
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/ ./cmd/...

test: deps
	$(GO) vet ./...
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	bash scripts/with-display.sh $(GO) test -timeout $(TEST_TIMEOUT) -count=1 ./...

bench: deps
	bash scripts/with-display.sh $(GO) test -run '^$$' -bench . -benchmem -timeout 30m ./... | tee bench.out | $(GO) run ./internal/benchtable

demo: deps build
	bash scripts/demo.sh

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...

# Runs each fuzz target for a short while (FUZZTIME=30s by default).
FUZZTIME ?= 30s
fuzz:
	bash scripts/fuzz.sh $(FUZZTIME)

clean:
	rm -rf $(BIN) demo-data bench.out
