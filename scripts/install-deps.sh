#!/usr/bin/env bash
# Installs the Debian packages that building, testing and the demo need, when
# they are missing. Safe to run again; runs apt-get only if something lacks.
set -euo pipefail

packages=(
  # Ebiten windows under a virtual X server, drawn by Mesa's software GL.
  xvfb xauth x11-utils xdotool libgl1 libgl1-mesa-dri libegl1 libx11-6 libxrandr2 libxcursor1 libxinerama1 libxi6 libxxf86vm1
  libx11-dev libxrandr-dev libxcursor-dev libxinerama-dev libxi-dev libxxf86vm-dev libgl1-mesa-dev
  # kioskd's end-to-end tests and the display tests tap the kiosk's window
  # as a finger would (a touch panel reports itself as a mouse).
  xdotool
  # Oto plays through ALSA; tests capture into a file PCM.
  libasound2 libasound2-dev alsa-utils
  # Web tests drive a real browser and run axe-core (npm) in its pages.
  chromium nodejs
  # The nginx recipe (deploy/nginx) is tested in front of a real server;
  # HAProxy checks the recipe for several nodes (deploy/cluster).
  nginx-light haproxy
  # The Debian packages' test (deploy/packages) installs numerek-server
  # into a fresh Debian made by mmdebstrap; lintian checks the packages.
  mmdebstrap lintian
  # The metrics test runs a real Prometheus (and promtool) on
  # deploy/prometheus/prometheus.yml and the Grafana dashboard's queries.
  prometheus
  # System updates' tests make real RAUC bundles (rauc bundle runs
  # mksquashfs) signed with a throwaway key made by openssl.
  rauc squashfs-tools openssl
  # kioskctl firstboot's tests check time zones against tzdata's files;
  # grow-data's grow a card image's partitions (sfdisk) and, as root, its
  # ext4 on a loop device (losetup, partx, resizepart, resize2fs).
  tzdata fdisk util-linux e2fsprogs
  # The device's SD card image (make image): an arm64 Debian made by
  # mmdebstrap, its maintainer scripts run by qemu-user; the card assembled
  # in a file (FAT by mtools, ext4 by mke2fs -d, the table by sfdisk),
  # mapped and compressed for flashing. make image-test boots it in qemu
  # and edits its partitions (mtools, debugfs).
  mmdebstrap qemu-user-static binfmt-support arch-test debian-archive-keyring
  dosfstools mtools e2fsprogs fdisk bmap-tools xz-utils jq ca-certificates openssl
  qemu-system-arm qemu-utils
  # The PostgreSQL store's tests (store/pgstore, the cluster tests) start
  # their own PostgreSQL 15 from Debian's binaries (initdb into a temporary
  # folder as an unprivileged user); no cluster of the package's is used.
  postgresql-15 postgresql-client-15
  # Voice-pack generation script (not needed at run time on devices).
  espeak-ng sox
  # The A/B slots (device/slots, internal/bootsel): FAT and ext4 partitions
  # made without mounts, real rauc installs of signed bundles through its
  # service on a private D-Bus.
  dosfstools mtools e2fsprogs fdisk xz-utils squashfs-tools openssl rauc dbus
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Debian's nodejs comes without npm (NodeSource's includes it).
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
