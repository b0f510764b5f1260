#!/usr/bin/env bash
# Side-by-side no-op benchmark: pvelxc-agent vs Ansible (ansible-core from PyPI,
# connection local) applying the same nine-step media setup (site.yml = spec.json)
# to this machine. Creates mediatest(2000), vtest(2044), rtest(2105) and
# /var/tmp/pvelxc-agent-bench, and removes exactly those again at the end.
#
# usage: bench/agent/run.sh [AGENT_RUNS] [ANSIBLE_RUNS]     (as root; ANSIBLE_RUNS=0 skips Ansible)
# PVELXC_AGENT=/path/to/pvelxc-agent skips the static build.
# Prints a Markdown table; raw hyperfine JSON lands in bench/agent/results/.
set -euo pipefail
cd "$(dirname "$0")"
here=$PWD
repo=$(cd ../.. && pwd)
agent_runs=${1:-50}
ansible_runs=${2:-5}
base=/var/tmp/pvelxc-agent-bench
venv=$repo/.cache/bench-ansible
results=$here/results
mkdir -p "$results"

for tool in hyperfine strace /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool is missing (apt-get install hyperfine strace time)" >&2; exit 1; }
done
[[ $(id -u) == 0 ]] || { echo "run.sh: run as root (it manages users and groups)" >&2; exit 1; }

agent=${PVELXC_AGENT:-$(bash "$repo/scripts/build-agent.sh")}
if [[ ! -x $venv/bin/ansible-playbook ]]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet ansible-core==2.19.14
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

count_execs() { # successful execve calls in the whole process tree, minus the command itself
  strace -f -qq -e trace=execve -e signal=none -o "$results/strace.tmp" "$@" >/dev/null 2>&1 || true
  echo $(( $(grep -c 'execve(.*= 0$' "$results/strace.tmp") - 1 ))
}
max_rss_kb() { # largest single process of the tree (GNU time %M)
  /usr/bin/time -f '%M' -o "$results/time.tmp" "$@" >/dev/null 2>&1 || true
  cat "$results/time.tmp"
}

hyperfine -N --warmup 3 --runs "$agent_runs" --export-json "$results/agent.json" \
  "$agent apply $here/spec.json" "$agent apply --check $here/spec.json" >&2
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
TABLE
if ((ansible_runs > 0)); then
  echo "| ansible-core 2.19.14 | $(hstat "$results/ansible.json" 0) | $(hstat "$results/ansible.json" 1) | $(max_rss_kb "${playbook[@]}") KB | $(count_execs "${playbook[@]}") |"
fi
rm -f "$results/strace.tmp" "$results/time.tmp"
