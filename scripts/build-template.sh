#!/usr/bin/env bash
# Builds the container templates pve-testhost serves, once each, and caches them:
#   local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst    (Debian 12, Debian's mirror)
#   local:vztmpl/ubuntu-24.04-standard_24.04-2_amd64.tar.zst (Ubuntu 24.04, Ubuntu's archive)
#
# A PVE "standard" template is a plain rootfs tarball; debootstrap gives the same thing.
# Ubuntu's archive key is not packaged in Debian 12, so it comes from Ubuntu's own
# ubuntu-keyring package, checked against a pinned SHA-256 before use.
# Usage: scripts/build-template.sh [debian|ubuntu|all] [OUTPUT_DIR]
#        (default: all, /var/cache/pvelxc/templates)
# Prints the path of each tarball. Safe to run concurrently and repeatedly.
set -euo pipefail

which=${1:-all}
out_dir=${2:-/var/cache/pvelxc/templates}
debian_mirror=${PVELXC_DEBIAN_MIRROR:-http://deb.debian.org/debian}
ubuntu_mirror=${PVELXC_UBUNTU_MIRROR:-http://archive.ubuntu.com/ubuntu}
ubuntu_keyring_deb=ubuntu-keyring_2023.11.28.1_all.deb
ubuntu_keyring_sha256=36de43b15853ccae0028e9a767613770c704833f82586f28eb262f0311adb8a8

die() { echo "build-template: $*" >&2; exit 1; }
command -v debootstrap >/dev/null || die "debootstrap is missing (apt-get install debootstrap)"
command -v zstd >/dev/null || die "zstd is missing (apt-get install zstd)"
mkdir -p "$out_dir"

# debootstrap into $work/rootfs with the given arguments, or show its log and fail.
# A mirror hiccup mid-download is common enough on a long fetch that a fresh attempt
# (debootstrap cannot resume) is tried twice more before giving up.
bootstrap() {
  local work=$1 attempt
  shift
  for attempt in 1 2 3; do
    if debootstrap --variant=minbase "$@" >"$work/debootstrap.log" 2>&1; then
      return 0
    fi
    tail -n 30 "$work/debootstrap.log" >&2
    ((attempt < 3)) || break
    echo "build-template: debootstrap attempt $attempt failed; retrying in $((attempt * 10)) s" >&2
    rm -rf "$work/rootfs"
    sleep $((attempt * 10))
  done
  die "debootstrap failed three times; last log above"
}

# What a standard template leaves for PVE's setup code to fill in at first start, then
# the tarball, renamed into place only once complete.
pack() {
  local work=$1 target=$2 rootfs=$1/rootfs
  : >"$rootfs/etc/machine-id"
  rm -f "$rootfs/etc/hostname" "$rootfs/var/lib/dbus/machine-id"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar --numeric-owner --xattrs -C "$rootfs" -cf - . | zstd -q -T0 -o "$work/out.tar.zst"
  sync "$work/out.tar.zst"
  mv -f "$work/out.tar.zst" "$target"
}

build_debian() {
  local work=$1 rootfs=$1/rootfs
  echo "build-template: debootstrap bookworm (a few minutes, once)" >&2
  bootstrap "$work" \
    --include=systemd,systemd-sysv,ifupdown,isc-dhcp-client,iproute2,iputils-ping,ca-certificates,procps,less,dbus \
    bookworm "$rootfs" "$debian_mirror"
  printf 'deb %s bookworm main\ndeb %s bookworm-updates main\n' "$debian_mirror" "$debian_mirror" \
    >"$rootfs/etc/apt/sources.list"
  printf 'auto lo\niface lo inet loopback\n' >"$rootfs/etc/network/interfaces"
}

build_ubuntu() {
  local work=$1 rootfs=$1/rootfs
  curl -fsSL --retry 5 --retry-connrefused -o "$work/$ubuntu_keyring_deb" \
    "$ubuntu_mirror/pool/main/u/ubuntu-keyring/$ubuntu_keyring_deb" ||
    die "cannot download $ubuntu_keyring_deb from $ubuntu_mirror"
  echo "$ubuntu_keyring_sha256  $work/$ubuntu_keyring_deb" | sha256sum -c --quiet - ||
    die "$ubuntu_keyring_deb does not match its pinned SHA-256; refusing to trust it"
  dpkg-deb -x "$work/$ubuntu_keyring_deb" "$work/keyring"
  echo "build-template: debootstrap noble (a few minutes, once)" >&2
  # Debian 12's debootstrap has no script named noble; Ubuntu's releases share gutsy's.
  bootstrap "$work" \
    --keyring="$work/keyring/usr/share/keyrings/ubuntu-archive-keyring.gpg" \
    --components=main,universe \
    --include=systemd,systemd-sysv,systemd-resolved,iproute2,iputils-ping,ca-certificates,procps,less,dbus \
    noble "$rootfs" "$ubuntu_mirror" /usr/share/debootstrap/scripts/gutsy
  printf 'deb %s noble main universe\ndeb %s noble-updates main universe\n' \
    "$ubuntu_mirror" "$ubuntu_mirror" >"$rootfs/etc/apt/sources.list"
  rm -f "$rootfs/etc/apt/sources.list.d/ubuntu.sources"
  # PVE's Ubuntu setup writes /etc/systemd/network/<if>.network; the service that reads it
  # is enabled in Proxmox's own Ubuntu templates.
  chroot "$rootfs" systemctl enable systemd-networkd.service >/dev/null 2>&1 ||
    die "cannot enable systemd-networkd in the Ubuntu rootfs"
}

build() {
  local os=$1 name=$2
  local target="$out_dir/$name"
  if [[ ! -s $target ]]; then
    exec 9>"$out_dir/.build-$os.lock"
    flock 9
    if [[ ! -s $target ]]; then
      local work
      work=$(mktemp -d "$out_dir/.build-$os.XXXXXX")
      # shellcheck disable=SC2064
      trap "rm -rf '$work'" EXIT
      "build_$os" "$work"
      pack "$work" "$target"
      rm -rf "$work"
      trap - EXIT
    fi
    exec 9>&-
  fi
  echo "$target"
}

case $which in
  debian | all) build debian debian-12-standard_12.7-1_amd64.tar.zst ;;&
  ubuntu | all) build ubuntu ubuntu-24.04-standard_24.04-2_amd64.tar.zst ;;
  debian) ;;
  *) die "unknown template '$which' (debian, ubuntu or all)" ;;
esac
