#!/usr/bin/env bash
# Assembles the card image $1/disk.img from the root file system $1/rootfs
# (made by build.sh) without loop devices or mounts: each file system is
# made in a file of its own (mkfs.vfat -C + mcopy, mke2fs -d), the
# partition table is written by sfdisk into the image file, and each file
# system is copied to its partition's offset (dd conv=notrunc,sparse: the
# unused parts stay holes, which bmaptool skips when flashing).
#
# The layout is CONTRACT13's (deploy/README.md, "The card").
set -euo pipefail
work=$1
root_mib=${2:-1536}
rootfs=$work/rootfs
boot_mib=256 numerek_mib=64 data_mib=128
die() { echo "assemble: $*" >&2; exit 1; }

# Slot A's boot partition: what raspi-firmware put in /boot/firmware
# (firmware, device trees, kernel, initrd, config.txt, cmdline.txt). The
# root keeps an empty /boot/firmware to mount it on.
mkdir -p "$work/boot"
mv "$rootfs"/boot/firmware/* "$work/boot/"
grep -q 'root=PARTUUID=4e554d31-05' "$work/boot/cmdline.txt" || die "cmdline.txt does not name slot A's root: $(cat "$work/boot/cmdline.txt")"
grep -q 'rauc.slot=A' "$work/boot/cmdline.txt" || die "cmdline.txt lacks rauc.slot=A"

# The data partition's first contents, owned as the root's users say.
uid() { awk -F: -v n="$1" '$1 == n { print $3 }' "$rootfs/etc/passwd"; }
gid() { awk -F: -v n="$1" '$1 == n { print $3 }' "$rootfs/etc/group"; }
data=$work/data
mkdir -p "$data"/{etc/numerek,kioskd,journal,ssh,rauc}
chmod 0700 "$data/kioskd" "$data/ssh"
chown "$(uid kioskd):$(gid kioskd)" "$data/kioskd"
chown "0:$(gid systemd-journal)" "$data/journal"
chmod 2755 "$data/journal"
cp -a "$rootfs/var/lib/systemd" "$data/systemd"
rm -rf "${rootfs:?}"/var/lib/systemd/*

fat() { # file label MiB [dir]
  rm -f "$1"
  mkfs.vfat -C -n "$2" $([ "$3" -ge 256 ] && echo -F 32) "$1" $(($3 * 1024)) >/dev/null
  if [ -n "${4:-}" ]; then mcopy -s -m -i "$1" "$4"/* ::/; fi
}
ext4() { # file label MiB dir reserved%
  rm -f "$1"
  # 4 KiB blocks also for the small data partition: it grows to the card.
  mke2fs -q -F -t ext4 -b 4096 -L "$2" -m "$5" -E root_owner=0:0 -d "$4" "$1" "$3M"
}

# The card's first partition, what a technician sees on a PC: the commented
# example of numerek.txt (examples/numerek.txt) and the firmware's slot
# selection.
mkdir -p "$work/numerek"
here=$(cd "$(dirname "$0")" && pwd)
example=$here/../../examples/numerek.txt
cp "$here/card/autoboot.txt" "$work/numerek/autoboot.txt"
cp "$example" "$work/numerek/numerek.txt"
fat "$work/p1.img" NUMEREK "$numerek_mib" "$work/numerek"
fat "$work/p2.img" BOOT_A "$boot_mib" "$work/boot"
fat "$work/p3.img" BOOT_B "$boot_mib"
used=$(du -sm "$rootfs" | cut -f1)
[ "$used" -lt $((root_mib * 90 / 100)) ] || die "the root file system takes $used MiB; a root slot has $root_mib MiB (ROOT_MIB)"
ext4 "$work/p5.img" root "$root_mib" "$rootfs" 0
ext4 "$work/p7.img" NUMEREK_DATA "$data_mib" "$data" 1

# MiB-aligned partitions; each logical one is preceded by its 1 MiB
# extended boot record.
mib=2048 # sectors
total_mib=$((1 + numerek_mib + 2 * boot_mib + 1 + root_mib + 1 + root_mib + 1 + data_mib))
img=$work/disk.img
rm -f "$img"
truncate -s "${total_mib}M" "$img"
sfdisk --quiet "$img" <<SFDISK
label: dos
label-id: 0x4e554d31
unit: sectors

start=$((1 * mib)), size=$((numerek_mib * mib)), type=e, bootable
size=$((boot_mib * mib)), type=c
size=$((boot_mib * mib)), type=c
type=5
size=$((root_mib * mib)), type=83
size=$((root_mib * mib)), type=83
type=83
SFDISK
sfdisk --dump "$img" >"$work/layout.txt"

place() { # partition-number file
  local start size
  read -r start size < <(sfdisk -J "$img" | jq -r ".partitiontable.partitions[] | select(.node == \"$img$1\") | \"\(.start) \(.size)\"")
  [ -n "$start" ] || die "no partition $1"
  [ "$(stat -c %s "$2")" -le $((size * 512)) ] || die "$2 is larger than partition $1"
  dd if="$2" of="$img" bs=1M seek=$((start * 512)) oflag=seek_bytes conv=notrunc,sparse status=none
}
place 1 "$work/p1.img"
place 2 "$work/p2.img"
place 3 "$work/p3.img"
place 5 "$work/p5.img"
place 7 "$work/p7.img"
rm -f "$work"/p?.img
