#!/usr/bin/env bash
# Builds the Debian packages (make deb): numerek-server and numerek-kioskd
# for amd64 and arm64, into OUT (default out/deb), and prints their paths.
# The binaries are cross-built without cgo (kioskd loads Xlib, GL and ALSA
# at run time), position-independent (Debian's hardening: lintian
# hardening-no-pie), and know the packages' version (--version). VERSION
# overrides the version made from git (scripts/deb-version.sh); ARCHES
# the architectures.
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

# The packages' own entries (folders, control files) are dated by the
# commit, as Debian's reproducible builds do.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}

mkdir -p "$OUT"
build="$OUT/build"
for arch in $ARCHES; do
  echo "deb: building the binaries for $arch, version $VERSION" >&2
  CGO_ENABLED=0 GOOS=linux GOARCH=$arch "$GO" build -trimpath -buildmode=pie \
    -ldflags "-s -w -X main.version=$VERSION" \
    -o "$build/$arch/" ./cmd/kioskd ./cmd/kioskctl ./cmd/queue-server
done

# Debian wants a changelog in each package (lintian no-changelog): this
# build's entry, dated by its commit so that the same commit packs the
# same file.
for pkg in numerek-server numerek-kioskd; do
  mkdir -p "$build/doc/$pkg"
  {
    printf '%s (%s) unstable; urgency=medium\n\n' "$pkg" "$VERSION"
    printf '  * Built from the Numerek repository at %s.\n\n' "$(git describe --tags --always --dirty)"
    printf ' -- Numerek <numerek@users.noreply.github.com>  %s\n' "$(git log -1 --format=%aD)"
  } | gzip -9n >"$build/doc/$pkg/changelog.gz"
done

# nfpm built once for the four packages (go run would link it each time).
mkdir -p "$build/tools"
tools=$(cd "$build/tools" && pwd)
GOBIN=$tools "$GO" install "$NFPM"

for arch in $ARCHES; do
  for pkg in numerek-server numerek-kioskd; do
    DEB_ARCH=$arch DEB_VERSION=$VERSION NUMEREK_BUILD="$build" \
      "$tools/nfpm" package --config "deploy/packages/$pkg.yaml" --packager deb --target "$OUT/" >&2
    echo "$OUT/${pkg}_${VERSION}_${arch}.deb"
  done
done
