#!/usr/bin/env bash
# Runs the msgpack-decoder fuzz target for a bounded time.
# Usage: provider/cty/fuzz/run.sh SECONDS
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

corpus="$here/corpus/msgpack_decode"
mkdir -p "$corpus"
# Seed the corpus with the golden vectors (selector byte 0 = string, 1 = number, ...).
if [ -z "$(ls -A "$corpus")" ]; then
    printf '\x00\xa5hello' > "$corpus/seed-string"
    printf '\x01\xcb\x3f\xe0\x00\x00\x00\x00\x00\x00' > "$corpus/seed-float"
    printf '\x03\x92\xc4\x08"string"\xa1x' > "$corpus/seed-dynamic"
    printf '\x00\xc7\x07\x0c\x82\x01\xc2\x02\xa2ab' > "$corpus/seed-refined"
fi

export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$here/target}"
exec cargo fuzz run msgpack_decode "$corpus" -- \
    -max_total_time="$seconds" -max_len=4096 -rss_limit_mb=1024 -timeout=10
