#!/usr/bin/env bash
# Builds the device's SD card image (issue 13, deploy/README.md):
# out/image/numerek-device-arm64.img.xz and its .bmap. Debian bookworm arm64
# by mmdebstrap, run under qemu-user; the card assembled in a file without
# loop devices or mounts (mkfs.vfat -C + mcopy, mke2fs -d, sfdisk on a
# file, dd conv=notrunc,sparse), so it builds in a container as well.
#
# Environment:
#   VERSION          the system's version (default: git describe, mangled)
#   NUMEREK_CACHE    where downloaded .debs are kept between runs
#                    (default ~/.cache/numerek)
#   NUMEREK_MIRROR   the Debian mirror (default http://deb.debian.org/debian)
#   KIOSKD_DEB       the numerek-kioskd arm64 .deb to install (default: the
#                    newest out/deb/numerek-kioskd_*_arm64.deb)
#   KIOSKD_BIN       without a .deb: a folder with arm64 kioskd and kioskctl
#                    to install (default: built from this tree)
#   RAUC_KEYRING     the PEM certificate(s) update bundles must be signed
#                    with, installed as /etc/rauc/keyring.pem
#   ROOT_MIB         the size of each root slot (default 1536)
#   KERNEL_PACKAGES  the kernel and the boot firmware (default
#                    "linux-image-arm64 raspi-firmware": Debian's, for the
#                    Pi 3/4/400/CM4; deploy/README.md says what a Pi 5 needs)
#   EXTRA_SOURCES    more apt sources, one "deb URL SUITE COMPONENTS" a line
#                    (the repository of another kernel)
#   OUT              where the image goes (default out/image)
#   IMAGE_XZ         0: leave the card uncompressed (numerek-device-arm64.img,
#                    sparse), for the tests, which would wait many minutes
#                    for xz on two cores; default 1: the .img.xz to hand out
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=${OUT:-$repo/out/image}
cache=${NUMEREK_CACHE:-$HOME/.cache/numerek}/apt-bookworm-arm64
mirror=${NUMEREK_MIRROR:-http://deb.debian.org/debian}
security_mirror=${NUMEREK_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
root_mib=${ROOT_MIB:-1536}
started=$SECONDS

log() { echo "image: $* ($((SECONDS - started)) s)" >&2; }
die() { echo "image: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (mmdebstrap's root mode, owners in the filesystems)"

version=${VERSION:-}
if [ -z "$version" ]; then
  # git describe gives v1.2-3-gabcdef(-dirty), or a bare commit where
  # there is no tag; Debian versions must start with a digit.
  if d=$(git -C "$repo" describe --tags --dirty 2>/dev/null); then
    version=$(echo "${d#v}" | sed -E 's/-([0-9]+)-g/+\1.g/; s/-dirty$/.dirty/')
  else
    d=$(git -C "$repo" describe --always --dirty 2>/dev/null || echo unknown)
    version="0~git.${d//-/.}"
  fi
fi
export NUMEREK_VERSION=$version
log "version $version"

# qemu-user runs the arm64 maintainer scripts; a builder may lack the
# binfmt_misc mount or have the handler disabled.
if ! [ -e /proc/sys/fs/binfmt_misc/status ]; then
  mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
fi
if ! [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
  update-binfmts --enable qemu-aarch64
fi
arch-test arm64 >/dev/null || die "arm64 binaries do not run here: install qemu-user-static binfmt-support"

work=$(mktemp -d "${TMPDIR:-/var/tmp}/numerek-image.XXXXXX")
cleanup() { rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$out" "$cache"

# kioskd comes as the package `make deb` builds. Without it (before that
# helper's branch is merged) the binaries are built here and installed with
# deploy/'s units by hooks/customize.sh: TEMPORARY.
kioskd_deb=${KIOSKD_DEB:-$(ls -t "$repo"/out/deb/numerek-kioskd_*_arm64.deb 2>/dev/null | head -1 || true)}
export NUMEREK_KIOSKD_BIN=""
if [ -z "$kioskd_deb" ] && [ -n "${KIOSKD_BIN:-}" ]; then
  # kioskd and kioskctl built elsewhere (another branch's, to try it on the
  # card)
  mkdir -p "$work/bin"
  cp "$KIOSKD_BIN/kioskd" "$KIOSKD_BIN/kioskctl" "$work/bin/"
  touch "$work/bin/.built"
  NUMEREK_KIOSKD_BIN=$work/bin
elif [ -z "$kioskd_deb" ]; then
  log "no numerek-kioskd arm64 .deb in out/deb: building kioskd and kioskctl (temporary)"
  mkdir -p "$work/bin"
  # Built while mmdebstrap runs; hooks/customize.sh waits for it.
  (
    cd "$repo"
    if CGO_ENABLED=0 GOARCH=arm64 go build -trimpath -ldflags "-s -w -X main.version=$version" -o "$work/bin/" ./cmd/kioskd ./cmd/kioskctl; then
      touch "$work/bin/.built"
    else
      touch "$work/bin/.failed"
    fi
  ) &
  NUMEREK_KIOSKD_BIN=$work/bin
fi
export NUMEREK_DEPLOY=$repo/deploy NUMEREK_RAUC_KEYRING=${RAUC_KEYRING:-}

packages=(
  # the boot: Debian's arm64 kernel, the Pi's firmware (raspi-firmware
  # writes config.txt, cmdline.txt and copies kernel and initrd to
  # /boot/firmware), a small initramfs
  ${KERNEL_PACKAGES:-linux-image-arm64 raspi-firmware} initramfs-tools firmware-brcm80211
  systemd systemd-sysv udev dbus polkitd kmod
  # network, time, remote access
  systemd-timesyncd systemd-resolved wpasupplicant openssh-server iproute2 ca-certificates tzdata
  # the screen and sound: a bare X server (modesetting is built in), Mesa
  xserver-xorg-core xserver-xorg-input-libinput libgl1 libegl1 libgl1-mesa-dri libasound2 alsa-utils
  # updates into the other slot; the tools its slots and the data
  # partition's growth need
  rauc rauc-service dosfstools e2fsprogs fdisk
)
include=$(IFS=,; echo "${packages[*]}")
# The package goes in by a customize hook: given to --include, apt hands
# dpkg (chrooted into the root) a path outside the root.
deb_hooks=()
if [ -n "$kioskd_deb" ]; then
  log "installing $kioskd_deb"
  deb_name=$(basename "$kioskd_deb")
  # Its dependencies come with the rest (the chroot has no DNS to fetch
  # them later); of alternatives, the first.
  deps=$(dpkg-deb -f "$kioskd_deb" Depends | tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/[[:space:]]//g' | grep -v '^$' | paste -sd, -)
  include="$include,$deps"
  deb_hooks=(
    --customize-hook="copy-in '$(readlink -f "$kioskd_deb")' /tmp"
    --customize-hook="chroot \"\$1\" apt-get install -y --no-install-recommends '/tmp/$deb_name'"
    --customize-hook="rm -f \"\$1/tmp/$deb_name\""
  )
fi

log "root file system (mmdebstrap, downloads cached in $cache)"
mmdebstrap --mode=root --variant=minbase --architectures=arm64 \
  --aptopt='APT::Install-Recommends "false"' \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-include=/usr/share/locale/locale.alias' \
  --include="$include" \
  --skip=download/empty --skip=essential/unlink \
  --setup-hook='mkdir -p "$1"/var/cache/apt/archives/' \
  --setup-hook="sync-in '$cache' /var/cache/apt/archives/" \
  --essential-hook="'$here/hooks/essential.sh' \"\$1\"" \
  --customize-hook="sync-out /var/cache/apt/archives '$cache'" \
  "${deb_hooks[@]}" \
  --customize-hook="'$here/hooks/customize.sh' \"\$1\"" \
  bookworm "$work/rootfs" \
  "deb $mirror bookworm main non-free-firmware" \
  "deb $mirror bookworm-updates main non-free-firmware" \
  "deb $security_mirror bookworm-security main non-free-firmware" \
  ${EXTRA_SOURCES:+"$EXTRA_SOURCES"}

log "file systems"
bash "$here/assemble.sh" "$work" "$root_mib"

img=$out/numerek-device-arm64.img
rm -f "$img" "$img.xz" "$img.bmap"
bmaptool create -o "$img.bmap" "$work/disk.img"
if [[ ${IMAGE_XZ:-1} == 0 ]]; then
  log "bmap, the card left uncompressed"
  cp --sparse=always "$work/disk.img" "$img"
  built=$img size=""
else
  log "bmap and xz"
  xz -T0 -3 -c "$work/disk.img" >"$img.xz.part"
  mv "$img.xz.part" "$img.xz"
  built=$img.xz size="$(($(stat -c %s "$img.xz") / 1000000)) MB-xz "
fi
echo "$version" >"$out/version"
log "done: $built (${size:-sparse})"
# make bench's table reads these figures as benchmark lines
# (internal/benchtable); make image-test adds the boot's.
{
  echo "pkg: github.com/numerek/numerek/deploy/image"
  echo "BenchmarkCardImage 1 $size$((SECONDS - started)) s-build"
} >"$out/figures.txt"
