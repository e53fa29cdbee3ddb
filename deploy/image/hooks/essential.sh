#!/bin/sh
# mmdebstrap --essential-hook: runs after the essential packages are in
# "$1" and before the kernel is, so the kernel's first initramfs is already
# the small one (see early/etc/initramfs-tools).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
cp -R --no-preserve=ownership "$here/early/." "$1/"
chmod 0755 "$1/etc/initramfs-tools/scripts/init-bottom/numerek-machine-id"

# update-ca-certificates forks a few times per certificate: under qemu-user
# that is most of the build's time. In the chroot it does nothing;
# hooks/customize.sh runs the builder's own copy over the root instead.
# update-initramfs likewise runs twice (the kernel's postinst, then
# initramfs-tools' trigger) where once, at the end, is enough.
for tool in update-ca-certificates update-initramfs; do
  chroot "$1" dpkg-divert --quiet --local --rename --add /usr/sbin/$tool
  ln -s /bin/true "$1/usr/sbin/$tool"
done
