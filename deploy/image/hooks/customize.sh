#!/bin/bash
# mmdebstrap --customize-hook: makes the installed Debian into the Numerek
# device system in "$1": the files of rootfs/, kioskd (from its package or,
# until that is merged, the binaries built by build.sh), the read-only root's
# links to /data, the slots' update configuration, and nothing that must
# differ per card (machine id, ssh host keys, kioskd's state).
set -euo pipefail
root=$1
here=$(cd "$(dirname "$0")/.." && pwd)
in_root() { chroot "$root" "$@"; }

cp -R --no-preserve=ownership "$here/rootfs/." "$root/"
chmod 0755 "$root"/usr/lib/numerek/*

if [ -n "${NUMEREK_KIOSKD_BIN:-}" ]; then
  # TEMPORARY, until the numerek-kioskd package (make deb) is merged: what
  # the package installs, from deploy/. build.sh builds them meanwhile.
  while ! [ -e "$NUMEREK_KIOSKD_BIN/.built" ]; do
    [ -e "$NUMEREK_KIOSKD_BIN/.failed" ] && { echo "customize: building kioskd failed" >&2; exit 1; }
    sleep 1
  done
  install -m 0755 "$NUMEREK_KIOSKD_BIN/kioskd" "$NUMEREK_KIOSKD_BIN/kioskctl" "$root/usr/bin/"
  install -m 0644 "$NUMEREK_DEPLOY"/systemd/kioskd.service "$NUMEREK_DEPLOY"/systemd/numerek-x.service "$root/etc/systemd/system/"
  install -m 0644 "$NUMEREK_DEPLOY"/udev/*.rules "$root/etc/udev/rules.d/"
  install -d "$root/etc/polkit-1/rules.d"
  install -m 0644 "$NUMEREK_DEPLOY"/polkit/*.rules "$root/etc/polkit-1/rules.d/"
  in_root groupadd --system gpio
  in_root useradd --system --home-dir /var/lib/kioskd --no-create-home --shell /usr/sbin/nologin \
    --user-group --groups video,audio,lp,dialout,gpio kioskd
fi

# The certificate store, made by the builder's update-ca-certificates (the
# same script; natively, not one emulated fork per certificate).
if [ -e "$root/usr/sbin/update-ca-certificates.distrib" ]; then
  rm "$root/usr/sbin/update-ca-certificates"
  in_root dpkg-divert --quiet --local --rename --remove /usr/sbin/update-ca-certificates
  no_hooks=$(mktemp -d)
  update-ca-certificates --fresh --certsconf "$root/etc/ca-certificates.conf" --certsdir "$root/usr/share/ca-certificates" \
    --localcertsdir "$root/usr/local/share/ca-certificates" --etccertsdir "$root/etc/ssl/certs" --hooksdir "$no_hooks" >/dev/null
  rmdir "$no_hooks"
  # It linked each certificate by the builder's path to it: the root's own.
  find "$root/etc/ssl/certs" -type l | while read -r link; do
    target=$(readlink "$link")
    case $target in "$root"/*) ln -sfn "${target#"$root"}" "$link" ;; esac
  done
  [ -s "$root/etc/ssl/certs/ca-certificates.crt" ]
fi

# The boot partition's command line: slot A's root by PARTUUID (slot B's
# boot partition says -06 and B), read-only. raspi-firmware writes
# cmdline.txt from these on every kernel or initramfs change.
sed -i -E 's|^#?ROOTPART=.*|ROOTPART=PARTUUID=4e554d31-05|' "$root/etc/default/raspi-firmware"
grep -q '^ROOTPART=PARTUUID=4e554d31-05$' "$root/etc/default/raspi-firmware"
# panic=10: a new slot whose kernel panics restarts, and the firmware
# (the tryboot flag spent) starts the old slot.
echo "ro rauc.slot=A consoleblank=0 panic=10" >"$root/etc/default/raspi-extra-cmdline"
kernel=$(basename "$(ls "$root"/boot/vmlinuz-* | sort -V | tail -1)")
if [ -e "$root/usr/sbin/update-initramfs.distrib" ]; then
  # The initramfs, once, with every package in place (essential.sh).
  rm "$root/usr/sbin/update-initramfs"
  in_root dpkg-divert --quiet --local --rename --remove /usr/sbin/update-initramfs
  in_root update-initramfs -c -k "${kernel#vmlinuz-}"
fi
in_root /etc/kernel/postinst.d/z50-raspi-firmware "${kernel#vmlinuz-}"

# /etc/numerek is on the data partition (the firstboot writes kioskd.toml
# there); the package's default stays in the image for reference.
if [ -d "$root/etc/numerek" ] && ! [ -L "$root/etc/numerek" ]; then
  mkdir -p "$root/usr/share/numerek/etc"
  cp -R "$root/etc/numerek/." "$root/usr/share/numerek/etc/"
  rm -rf "$root/etc/numerek"
fi
ln -sfn /data/etc/numerek "$root/etc/numerek"

# Mount points of the read-only root.
mkdir -p "$root/data" "$root/boot/numerek" "$root/boot/firmware" "$root/var/lib/kioskd" "$root/var/log/journal"

# Per card, never in the image: the machine id (made on first boot and kept
# on /data, early/.../numerek-machine-id), ssh host keys (on /data/ssh),
# kioskd's state, the downloaded packages.
: >"$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"
ln -s /etc/machine-id "$root/var/lib/dbus/machine-id"
rm -f "$root"/etc/ssh/ssh_host_*
rm -rf "${root:?}"/var/lib/kioskd/* "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
echo numerek >"$root/etc/hostname"
ln -sfn ../run/systemd/resolve/stub-resolv.conf "$root/etc/resolv.conf"
# What the first boot sets from numerek.txt, kept on /data or made in /run
# (device/firstboot): the time zone (UTC while the link dangles) and Wi-Fi.
ln -sfn /data/etc/localtime "$root/etc/localtime"
mkdir -p "$root/etc/wpa_supplicant"
ln -sfn /run/numerek/wpa_supplicant-wlan0.conf "$root/etc/wpa_supplicant/wpa_supplicant-wlan0.conf"

# Updates: the slots of CONTRACT13 and the keyring bundles are checked
# against.
if [ -n "${NUMEREK_RAUC_KEYRING:-}" ]; then
  install -m 0644 "$NUMEREK_RAUC_KEYRING" "$root/etc/rauc/keyring.pem"
fi

echo "${NUMEREK_VERSION:?}" >"$root/etc/numerek-release"

in_root systemctl enable systemd-networkd.service systemd-resolved.service systemd-timesyncd.service \
  numerek-grow-data.service numerek-firstboot.service numerek-x.service kioskd.service \
  numerek-trial.service
in_root systemctl set-default graphical.target
# Timers that would write to the read-only root (apt's lists, dpkg's
# backups) or scrub with nobody to read the result.
in_root systemctl mask apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer e2scrub_reap.service
