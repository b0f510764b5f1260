#!/usr/bin/env bash
# Opens a root shell (or runs a command) on the pve-testhost node, the way the provider
# and operators reach a Proxmox VE node over SSH.
# Usage: acceptance-tests/pve-testhost/scripts/node-ssh.sh [COMMAND...]
# Reads the node's testhost.env (default /run/pve-testhost/testhost.env; override with
# PVE_TESTHOST_STATE=<state dir>).
set -euo pipefail
state=${PVE_TESTHOST_STATE:-/run/pve-testhost}
env_file="$state/testhost.env"
[[ -r "$env_file" ]] || { echo "node-ssh: $env_file not found; bring the node up first (pve-testhost up)" >&2; exit 1; }
# shellcheck source=/dev/null
source "$env_file"
exec ssh -i "$PVE_TESTHOST_SSH_KEY" -p "$PVE_TESTHOST_SSH_PORT" \
  -o UserKnownHostsFile="$PVE_TESTHOST_SSH_KNOWN_HOSTS" -o StrictHostKeyChecking=yes \
  "$PVE_TESTHOST_SSH_USER@$PVE_TESTHOST_SSH_HOST" "$@"
