# Numerek. `make demo` runs the system on embedded defaults; `make test` runs
# every test. Both install the Debian packages they need (scripts/install-deps.sh).
GO ?= go
BIN := bin
TEST_TIMEOUT ?= 18m
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: all build test bench chaos demo lint deps fuzz clean image image-test bundle

all: build

deps:
	bash scripts/install-deps.sh
	cd web/e2e && npm ci --no-audit --no-fund --loglevel=error

build:
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/ ./cmd/...

# Debian packages (deploy/packages, nfpm): numerek-server and
# numerek-kioskd, amd64 and arm64, into out/deb/ as
# NAME_VERSION_ARCH.deb. The version comes from git describe
# (scripts/deb-version.sh); VERSION=1.2.3 overrides it, ARCHES=arm64
# builds one architecture only.
.PHONY: deb
VERSION ?=
deb:
	GO=$(GO) VERSION="$(VERSION)" bash scripts/deb.sh

# make test compiles the module once, as the packages ship it (no cgo,
# -trimpath, PIE: scripts/deb.sh): go vet, staticcheck, the tests, the
# programs they start and the amd64 packages they build share that one
# compile (minutes of CPU on a machine with an empty Go cache), and the
# tests run the programs as they are shipped.
test: export CGO_ENABLED = 0
test: export GOFLAGS = -trimpath -buildmode=pie
test: deps
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	TEST_TIMEOUT=$(TEST_TIMEOUT) bash scripts/with-display.sh bash scripts/test.sh
	$(MAKE) image-test

# Benchmarks run one package at a time: several measure CPU time and
# latency, which other packages' benchmarks running beside them would skew.
bench: deps
	{ bash scripts/with-display.sh $(GO) test -p 1 -run '^$$' -bench . -benchmem -timeout 40m ./...; cat $(IMAGE_DIR)/figures.txt 2>/dev/null || true; } | tee bench.out | $(GO) run ./internal/benchtable

# The device's SD card image (deploy/image, deploy/README.md): Debian
# bookworm arm64 with kioskd, built as root by mmdebstrap under qemu-user;
# downloads are kept in $${NUMEREK_CACHE:-~/.cache/numerek}. Its figures
# (size, build time, boot time) join make bench's table.
IMAGE_DIR := out/image
IMAGE := $(IMAGE_DIR)/numerek-device-arm64.img.xz
# The tests boot the card uncompressed: xz alone takes longer than the
# rest of the build on two cores.
IMAGE_RAW := $(IMAGE_DIR)/numerek-device-arm64.img
image: deps
	ARCHES=arm64 bash scripts/deb.sh
	IMAGE_XZ=$(or $(IMAGE_XZ),1) bash deploy/image/build.sh

$(IMAGE):
	$(MAKE) image

# image-fresh builds the image again when the sources changed since it was
# built (the commit and the working tree's changes, as image-source.txt
# keeps them), so make test never boots a stale card.
.PHONY: image-fresh
image-fresh:
	@want=$$( { git rev-parse HEAD; git status --porcelain --untracked-files=no; git diff; } 2>/dev/null | sha256sum | cut -c1-16); \
	  have=$$(cat $(IMAGE_DIR)/image-source.txt 2>/dev/null || true); \
	  if [ ! -f $(IMAGE_RAW) ] || [ "$$want" != "$$have" ]; then \
	    $(MAKE) image IMAGE_XZ=0 && echo "$$want" > $(IMAGE_DIR)/image-source.txt; \
	  else echo "image-fresh: $(IMAGE_RAW) is built from these sources"; fi

# Boots the image in qemu (virt board, TCG) against a queue server on this
# machine: pairing, approval, a call on the hall; an update installed,
# tried and committed, a bad one rolled back (deploy/image/cardtest).
image-test: image-fresh
	NUMEREK_IMAGE=$(abspath $(IMAGE_RAW)) NUMEREK_IMAGE_FIGURES=$(abspath $(IMAGE_DIR))/figures.txt \
	  NUMEREK_IMAGE_ARTIFACTS=$(abspath $(IMAGE_DIR)) \
	  $(GO) test -count=1 -timeout 60m -v ./deploy/image/cardtest

# A signed update bundle of the image for the fleet page
# (deploy/image/make-bundle.sh): BUNDLE_CERT and BUNDLE_KEY name the
# office's signing certificate and key (deploy/README.md).
BUNDLE := $(IMAGE_DIR)/numerek-update-arm64.raucb
bundle: $(IMAGE)
	bash deploy/image/make-bundle.sh $(IMAGE) $(BUNDLE)

# The chaos run (cmd/numerek-chaos): the real programs killed, cut off and
# slowed down for several minutes; a table of what people would notice.
# CHAOS_FLAGS passes more, e.g. CHAOS_FLAGS="--cycles 1000 --seed 42".
CHAOS_FLAGS ?=
chaos: deps build
	bash scripts/with-display.sh $(BIN)/numerek-chaos --bin $(BIN) $(CHAOS_FLAGS)

demo: deps build
	bash scripts/demo.sh

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

# Runs each fuzz target for a short while (FUZZTIME=30s by default).
FUZZTIME ?= 30s
fuzz:
	bash scripts/fuzz.sh $(FUZZTIME)

clean:
	rm -rf $(BIN) demo-data bench.out out
