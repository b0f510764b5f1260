# Shared output helpers for the project's scripts: one style, timings on each step.
_step_start=$SECONDS
step() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; _step_start=$SECONDS; }
info() { printf '    %s\n' "$*" >&2; }
warn() { printf '\033[33mwarning:\033[0m %s\n' "$*" >&2; }
die() { printf '\033[31merror:\033[0m %s\n' "$*" >&2; exit 1; }
