#!/usr/bin/env bash
# Side-by-side no-op benchmark: pvelxc-agent vs Ansible (ansible-core from PyPI,
# connection local) vs rash (crates.io rash_core, an Ansible-style Rust tool)
# applying the same nine-step media setup (site.yml = spec.json; media.rh as far
# as rash can express it) to this machine. Creates mediatest(2000), vtest(2044),
# rtest(2105) and /var/tmp/pvelxc-agent-bench, and removes exactly those again.
#
# usage: bench/agent/run.sh [AGENT_RUNS] [ANSIBLE_RUNS] [RASH_RUNS]
#        (as root; ANSIBLE_RUNS=0 / RASH_RUNS=0 skip that tool)
# PVELXC_AGENT=/path/to/pvelxc-agent skips the static build; RASH=/path/to/rash
# skips the rash install (default: .cache/rash/bin/rash, installed with cargo).
# Prints a Markdown table; raw hyperfine JSON lands in bench/agent/results/.
set -euo pipefail
cd "$(dirname "$0")"
here=$PWD
repo=$(cd ../.. && pwd)
agent_runs=${1:-50}
ansible_runs=${2:-5}
rash_runs=${3:-20}
rash_version=3.0.0
rash=${RASH:-$repo/.cache/rash/bin/rash}
base=/var/tmp/pvelxc-agent-bench
venv=$repo/.cache/bench-ansible
results=$here/results
mkdir -p "$results"

for tool in hyperfine strace /usr/bin/time chrt; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool is missing (apt-get install hyperfine strace time)" >&2; exit 1; }
done
[[ $(id -u) == 0 ]] || { echo "run.sh: run as root (it manages users and groups)" >&2; exit 1; }

agent=${PVELXC_AGENT:-$(bash "$repo/scripts/build-agent.sh")}
if [[ ! -x $venv/bin/ansible-playbook ]]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet ansible-core==2.19.14
fi
if ((rash_runs > 0)) && [[ ! -x $rash ]]; then
  # Without the default `passwordstore` feature: it needs gpgme and the script
  # does not use it.
  nice -n 19 cargo install --locked --no-default-features --root "$repo/.cache/rash" \
    "rash_core@$rash_version" >&2
  rash=$repo/.cache/rash/bin/rash
fi
export ANSIBLE_CONFIG=$here/ansible.cfg
playbook=("$venv/bin/ansible-playbook" "$here/site.yml")

teardown() {
  if id -u mediatest >/dev/null 2>&1 && [[ $(id -u mediatest) == 2000 ]]; then userdel mediatest; fi
  for g in vtest rtest mediatest; do
    if getent group "$g" >/dev/null; then groupdel "$g"; fi
  done
  rm -rf "$base"
}
trap teardown EXIT
for n in mediatest vtest rtest; do
  if getent passwd "$n" >/dev/null || getent group "$n" >/dev/null; then
    echo "run.sh: $n already exists on this machine; remove it or edit the names" >&2
    trap - EXIT
    exit 1
  fi
done

echo "== converge with pvelxc-agent" >&2
"$agent" apply "$here/spec.json" >&2 || [[ $? == 2 ]]
echo "== Ansible on the converged state (must report changed=0: same state)" >&2
"${playbook[@]}" | tee "$results/ansible-after-agent.txt" | tail -n 3 >&2
grep -q 'changed=0' "$results/ansible-after-agent.txt" || { echo "run.sh: playbook and spec differ" >&2; exit 1; }
if ((rash_runs > 0)); then
  echo "== rash on the converged state (twice; the second run is the no-op measured)" >&2
  "$rash" "$here/media.rh" >/dev/null 2>&1 || true
  "$rash" "$here/media.rh" >"$results/rash-after-agent.txt" 2>&1 || { cat "$results/rash-after-agent.txt" >&2; exit 1; }
  rash_changed=$(grep -c '^changed' "$results/rash-after-agent.txt" || true)
  echo "rash reports $rash_changed changed task(s) on the converged state" >&2
  # rash must leave the agent's state as it found it, or neither run is a no-op.
  if ! "$agent" apply --check "$here/spec.json" >"$results/agent-after-rash.txt" 2>&1; then
    cat "$results/agent-after-rash.txt" >&2
    echo "run.sh: media.rh changed what spec.json describes; fix the script" >&2
    exit 1
  fi
fi

count_execs() { # successful execve calls in the whole process tree, minus the command itself
  strace -f -qq -e trace=execve -e signal=none -o "$results/strace.tmp" "$@" >/dev/null 2>&1 || true
  echo $(( $(grep -c 'execve(.*= 0$' "$results/strace.tmp") - 1 ))
}
max_rss_kb() { # largest single process of the tree (GNU time %M)
  /usr/bin/time -f '%M' -o "$results/time.tmp" "$@" >/dev/null 2>&1 || true
  cat "$results/time.tmp"
}

load_before=$(cut -d' ' -f1 /proc/loadavg)
hyperfine -N --warmup 3 --runs "$agent_runs" --export-json "$results/agent.json" \
  "$agent apply $here/spec.json" "$agent apply --check $here/spec.json" >&2
# The same no-op under SCHED_FIFO: the agent gets a CPU the moment it is runnable,
# so this is its wall time on a quiet machine even when the machine is busy.
chrt -f 50 hyperfine -N --warmup 3 --runs "$agent_runs" --export-json "$results/agent-quiet.json" \
  "$agent apply $here/spec.json" >&2
if ((rash_runs > 0)); then
  hyperfine -N --warmup 2 --runs "$rash_runs" --export-json "$results/rash.json" \
    "$rash $here/media.rh" "$rash --check $here/media.rh" >&2
fi
if ((ansible_runs > 0)); then
  hyperfine --warmup 1 --runs "$ansible_runs" --export-json "$results/ansible.json" \
    "${playbook[*]}" "${playbook[*]} --check --diff" >&2
fi

# mean ± sd (min, median) wall, plus mean user+sys CPU: on a shared machine the CPU
# time is the steadier figure.
hstat() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][int(sys.argv[2])]; print("%.1f ± %.1f ms (min %.1f, median %.1f; CPU %.1f ms)" % (r["mean"]*1e3, r["stddev"]*1e3, r["min"]*1e3, r["median"]*1e3, (r["user"]+r["system"])*1e3))' "$@"; }
size=$(stat -c %s "$agent" 2>/dev/null || wc -c <"$agent")

cat <<TABLE
| tool | no-op apply | no-op check | peak RSS (largest process) | processes launched (no-op) |
|---|---|---|---|---|
| pvelxc-agent $(basename "$agent") ($((size / 1024)) KiB static) | $(hstat "$results/agent.json" 0) | $(hstat "$results/agent.json" 1) | $(max_rss_kb "$agent" apply "$here/spec.json") KB | $(count_execs "$agent" apply "$here/spec.json") |
| pvelxc-agent, same no-op at real-time priority (quiet-machine wall time) | $(hstat "$results/agent-quiet.json" 0) | | | |
TABLE
if ((rash_runs > 0)); then
  rash_size=$(stat -c %s "$rash")
  echo "| rash $rash_version ($((rash_size / 1024)) KiB; $rash_changed task(s) changed on every no-op) | $(hstat "$results/rash.json" 0) | $(hstat "$results/rash.json" 1) | $(max_rss_kb "$rash" "$here/media.rh") KB | $(count_execs "$rash" "$here/media.rh") |"
fi
if ((ansible_runs > 0)); then
  echo "| ansible-core 2.19.14 | $(hstat "$results/ansible.json" 0) | $(hstat "$results/ansible.json" 1) | $(max_rss_kb "${playbook[@]}") KB | $(count_execs "${playbook[@]}") |"
fi
echo
echo "load average (1 min) before the agent runs: $load_before; after all runs: $(cut -d' ' -f1 /proc/loadavg)"
rm -f "$results/strace.tmp" "$results/time.tmp"
