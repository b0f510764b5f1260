#!/usr/bin/env bash
# Builds the static pvelxc-agent binary the provider pushes into containers and
# onto the node, and prints its path.
#
# crt-static links glibc statically; --target keeps build scripts and proc-macros
# dynamic (they run on the build host). The agent never uses NSS, so a static
# glibc is safe here. Profile `agent`: size-optimised, thin LTO, panic=abort, stripped.
set -euo pipefail
cd "$(dirname "$0")/.."
target=x86_64-unknown-linux-gnu
RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
  cargo build --quiet --profile agent --target "$target" -p pvelxc-agent
dir=${CARGO_TARGET_DIR:-target}
bin="$dir/$target/agent/pvelxc-agent"
[[ -x "$bin" ]] || { echo "build-agent: $bin was not produced" >&2; exit 1; }
echo "$(cd "$(dirname "$bin")" && pwd)/pvelxc-agent"
