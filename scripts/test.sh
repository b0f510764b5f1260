#!/usr/bin/env bash
# Runs every check CI runs, from a fresh Debian 12 machine (as root):
# setup, formatting, lints, docs freshness, unit + property tests, the end-to-end
# suites against pve-testhost with real Terraform 1.15 and 1.11, examples validation
# and a bounded fuzz run. Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/log.sh

# A clean CI build without incremental caches needs less than half the disk.
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}
PVELXC_BUILD_ALL_TARGETS=1 bash scripts/setup.sh

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --quiet -- -D warnings

if [[ -f scripts/terraform.sh ]]; then
  # shellcheck source=/dev/null
  source scripts/terraform.sh
fi

target_dir=${CARGO_TARGET_DIR:-$PWD/target}
testhost=$target_dir/debug/pve-testhost
testhost_up=0
cleanup() {
  # Acceptance tests re-insert the drive's disc if something detached its loop device;
  # they pass then, so say it here, before `down` removes the node's state.
  if [[ -s /run/pve-testhost/disc-repairs.log ]]; then
    warn "the test host's optical drive lost its disc during the run and was re-inserted:"
    cat /run/pve-testhost/disc-repairs.log >&2
  fi
  if ((testhost_up)); then
    step "pve-testhost down"
    "$testhost" down || warn "pve-testhost down failed"
  fi
}
trap cleanup EXIT

step "pve-testhost up"
# `up` installs the node's `pct` from next to the pve-testhost binary.
# (Same scope as setup's build, so this is a no-op that reuses its artifacts.)
cargo build --quiet --workspace --all-targets
"$testhost" up >/dev/null
testhost_up=1
export PVE_TESTHOST_ENV=/run/pve-testhost/testhost.json
status=$("$testhost" status)
info "${status:0:300}"

# The schema-subset staleness test compares against the reference schema when it is
# beside the checkout (as in CI); the project itself never needs it at run time.
if [[ -z ${PVE_APIDATA:-} && -f ../shared/reference/pve/apidata.json ]]; then
  export PVE_APIDATA=$(cd .. && pwd)/shared/reference/pve/apidata.json
fi

step "cargo test (workspace, including the root/LXC/Terraform suites)"
cargo test --workspace --no-fail-fast -- --include-ignored

# Bounded fuzz runs of the two decoders that read untrusted bytes (Terraform's msgpack,
# a node's pct.conf). cargo-fuzz is optional: without it the committed regression
# inputs still run as ordinary tests.
if cargo fuzz --version >/dev/null 2>&1; then
  for target in provider/cty provider/pve; do
    step "fuzz: $target (${PVELXC_FUZZ_SECONDS:-30} s)"
    "$target/fuzz/run.sh" "${PVELXC_FUZZ_SECONDS:-30}"
  done
else
  warn "cargo-fuzz not installed (cargo install cargo-fuzz): fuzz runs skipped"
fi

if compgen -G "examples/*/main.tf" >/dev/null && command -v terraform-1.15 >/dev/null 2>&1; then
  step "terraform validate examples"
  for ex in examples/*/; do
    info "$ex"
    (cd "$ex" && terraform-1.15 fmt -check -recursive &&
      terraform-1.15 init -backend=false -input=false -no-color >/dev/null &&
      terraform-1.15 validate -no-color >/dev/null)
  done
fi
info "target/ uses $(du -sh "$target_dir" | cut -f1)"
step "all checks passed"
