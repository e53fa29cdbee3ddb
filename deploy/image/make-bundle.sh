#!/usr/bin/env bash
# Builds a signed RAUC bundle (compatible numerek-rpi4) from a Numerek card
# image: slot A's boot partition (p2) and root (p5) become the bundle's
# boot and rootfs images, which RAUC writes to the slot a device is not
# running (deploy/image/rootfs/etc/rauc/system.conf).
#
# usage: make-bundle.sh CARD.img[.xz] OUT.raucb
# env:   BUNDLE_CERT, BUNDLE_KEY   the office's signing certificate and key
#                                  (PEM; deploy/README.md says how to make them)
#        BUNDLE_KEYRING            checked against before writing (optional)
#        VERSION                   the bundle's version (default: git describe)
#        BUNDLE_FORMAT             plain (default) or verity
#        BUNDLE_COMPRESSION        mksquashfs's compressor and its options:
#                                  gzip (default), "zstd -Xcompression-level 3"
#                                  (several times faster to build), or xz; the
#                                  image's kernel and the server read these
#                                  (not lz4: the server's squashfs reader
#                                  cannot, and refuses the upload)
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 CARD.img[.xz] OUT.raucb" >&2
  exit 2
fi
card=$1 out=$2
: "${BUNDLE_CERT:?set BUNDLE_CERT and BUNDLE_KEY to the office's signing certificate and key (deploy/README.md)}"
: "${BUNDLE_KEY:?set BUNDLE_KEY to the office's signing key (deploy/README.md)}"
format=${BUNDLE_FORMAT:-plain}
version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo 0)}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/bundle"

if [[ $card == *.xz ]]; then
  xz -dc "$card" >"$work/card.img"
  card=$work/card.img
fi

# extract N FILE: copies partition N of the card into FILE.
extract() {
  local start size
  read -r start size < <(sfdisk -d "$card" |
    sed -n "s/^.*[^0-9]$1 : start= *\([0-9]*\), size= *\([0-9]*\),.*/\1 \2/p") || true
  if [ -z "${start:-}" ] || [ -z "${size:-}" ]; then
    echo "make-bundle: $card has no partition $1" >&2
    exit 1
  fi
  dd if="$card" of="$2" bs=4M iflag=skip_bytes,count_bytes skip=$((start * 512)) count=$((size * 512)) status=none
}
extract 2 "$work/bundle/boot.vfat"
extract 5 "$work/bundle/root.ext4"

cat >"$work/bundle/manifest.raucm" <<MANIFEST
[update]
compatible=numerek-rpi4
version=$version

[bundle]
format=$format

[image.rootfs]
filename=root.ext4

[image.boot]
filename=boot.vfat
MANIFEST

keyring=()
if [ -n "${BUNDLE_KEYRING:-}" ]; then keyring=(--keyring "$BUNDLE_KEYRING"); fi
rm -f "$out"
rauc bundle --cert "$BUNDLE_CERT" --key "$BUNDLE_KEY" "${keyring[@]}" \
  --mksquashfs-args="-comp ${BUNDLE_COMPRESSION:-gzip}" "$work/bundle" "$out"
echo "make-bundle: $out (version $version, $format)" >&2
