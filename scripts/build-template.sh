#!/usr/bin/env bash
# Builds the Debian 12 container template that pve-testhost serves as
# local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst, once, and caches it.
#
# A PVE "standard" template is a plain rootfs tarball; debootstrap from Debian's
# mirror gives the same thing without fetching anything from outside the registries.
# Usage: scripts/build-template.sh [OUTPUT_DIR]   (default /var/cache/pvelxc/templates)
# Prints the path of the tarball. Safe to run concurrently and repeatedly.
set -euo pipefail

out_dir=${1:-/var/cache/pvelxc/templates}
name=debian-12-standard_12.7-1_amd64.tar.zst
target="$out_dir/$name"
mirror=${PVELXC_DEBIAN_MIRROR:-http://deb.debian.org/debian}

if [[ -s "$target" ]]; then
  echo "$target"
  exit 0
fi
command -v debootstrap >/dev/null || { echo "build-template: debootstrap is missing (apt-get install debootstrap)" >&2; exit 1; }
command -v zstd >/dev/null || { echo "build-template: zstd is missing (apt-get install zstd)" >&2; exit 1; }

mkdir -p "$out_dir"
exec 9>"$out_dir/.build.lock"
flock 9
if [[ -s "$target" ]]; then echo "$target"; exit 0; fi

work=$(mktemp -d "$out_dir/.build.XXXXXX")
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"
packages=systemd,systemd-sysv,ifupdown,isc-dhcp-client,iproute2,iputils-ping,ca-certificates,procps,less,dbus
echo "build-template: debootstrap bookworm into $rootfs (a few minutes, once)" >&2
debootstrap --variant=minbase --include="$packages" bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -n 30 "$work/debootstrap.log" >&2
  echo "build-template: debootstrap failed; full log above" >&2
  exit 1
}

# What a standard template leaves for PVE's setup code to fill in at first start.
: >"$rootfs/etc/machine-id"
rm -f "$rootfs/etc/hostname" "$rootfs/var/lib/dbus/machine-id"
printf 'deb %s bookworm main\ndeb %s bookworm-updates main\n' "$mirror" "$mirror" >"$rootfs/etc/apt/sources.list"
printf 'auto lo\niface lo inet loopback\n' >"$rootfs/etc/network/interfaces"
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*

tar --numeric-owner --xattrs -C "$rootfs" -cf - . | zstd -q -T0 -o "$work/$name"
sync "$work/$name"
mv -f "$work/$name" "$target"
echo "$target"
