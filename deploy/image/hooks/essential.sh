#!/bin/sh
# mmdebstrap --essential-hook: runs after the essential packages are in
# "$1" and before the kernel is, so the kernel's first initramfs is already
# the small one (see early/etc/initramfs-tools).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
cp -R --no-preserve=ownership "$here/early/." "$1/"
chmod 0755 "$1/etc/initramfs-tools/scripts/init-bottom/numerek-machine-id"
