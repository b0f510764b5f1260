#!/bin/sh
# Job runner benchmarks (figures go to docs/performance.md, "Job runner").
#   transcode_overhead: runner-driven transcode vs bare ffmpeg, same arguments, one run
#   queue:              1,000 tiny jobs through the SQLite queue, then through the daemon
# Needs ffmpeg on PATH. ROUNDS, QUEUE_JOBS and DAEMON_JOBS override the defaults (3, 1000, 1000).
set -eu
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo bench -p pvelxc-jobs --bench transcode_overhead
cargo bench -p pvelxc-jobs --bench queue
