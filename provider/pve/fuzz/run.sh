#!/usr/bin/env bash
# Fuzzes the pct.conf parser/writer and the typed config model for a bounded time.
# Usage: provider/pve/fuzz/run.sh SECONDS
# Exits non-zero if the fuzzer finds a crash (artifacts land in fuzz/artifacts/).
# Needs cargo-fuzz (`cargo install cargo-fuzz`); on a stable toolchain the
# nightly-only sanitizer flags are enabled with RUSTC_BOOTSTRAP=1.
set -euo pipefail

seconds="${1:?usage: $0 SECONDS}"
case "$seconds" in
    ''|*[!0-9]*) echo "SECONDS must be a whole number, got '$seconds'" >&2; exit 2 ;;
esac

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here/.."

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "cargo-fuzz is not installed; run: cargo install cargo-fuzz" >&2
    exit 2
fi

corpus="$here/corpus/pctconf_roundtrip"
mkdir -p "$corpus"
cp -n "$here"/seeds/* "$corpus"/

export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$here/target}"
exec cargo fuzz run pctconf_roundtrip "$corpus" -- \
    -max_total_time="$seconds" -max_len=4096 -rss_limit_mb=1024 -timeout=10
