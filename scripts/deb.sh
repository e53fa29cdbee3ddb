#!/usr/bin/env bash
# Builds the Debian packages (make deb): numerek-server and numerek-kioskd
# for amd64 and arm64, into OUT (default out/deb). The binaries are
# cross-built without cgo (kioskd loads Xlib, GL and ALSA at run time) and
# know the packages' version (--version). VERSION overrides the version
# made from git (scripts/deb-version.sh).
set -euo pipefail

cd "$(dirname "$0")/.."
GO=${GO:-go}
NFPM=${NFPM:-github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.45.2}
OUT=${OUT:-out/deb}
ARCHES=${ARCHES:-amd64 arm64}
VERSION=${VERSION:-$(bash scripts/deb-version.sh)}

if command -v dpkg >/dev/null && ! dpkg --validate-version "$VERSION" 2>/dev/null; then
  echo "deb: VERSION=$VERSION is not a Debian version: $(dpkg --validate-version "$VERSION" 2>&1)" >&2
  exit 2
fi

mkdir -p "$OUT"
build="$OUT/build"
for arch in $ARCHES; do
  echo "deb: building the binaries for $arch, version $VERSION" >&2
  CGO_ENABLED=0 GOOS=linux GOARCH=$arch "$GO" build -trimpath \
    -ldflags "-s -w -X main.version=$VERSION" \
    -o "$build/$arch/" ./cmd/kioskd ./cmd/kioskctl ./cmd/queue-server
done

for arch in $ARCHES; do
  for pkg in numerek-server numerek-kioskd; do
    DEB_ARCH=$arch DEB_VERSION=$VERSION NUMEREK_BIN="$build/$arch" \
      "$GO" run "$NFPM" package --config "deploy/packages/$pkg.yaml" --packager deb --target "$OUT/" >&2
    echo "$OUT/${pkg}_${VERSION}_${arch}.deb"
  done
done
