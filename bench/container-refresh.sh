#!/usr/bin/env bash
# Refresh cost of `pvelxc_container`: creates COUNT containers (not started) on the
# pve-testhost node with real Terraform, then times RUNS `terraform plan` refreshes and
# counts the PVE API requests each refresh made, from the provider's own request log
# (every request it sends is one `PVE request` debug event; retries and ticket logins
# included). Destroys the containers at the end, also when interrupted.
#
# usage: bench/container-refresh.sh [RUNS] [COUNT]      (defaults: 5 20)
# env:   PVE_TESTHOST_ENV   node description (default /run/pve-testhost/testhost.json)
#        TERRAFORM          Terraform CLI (default .cache/bin/terraform-1.15, else terraform)
#        PVELXC_PROFILE     cargo profile of the provider build: release (default) or debug
#        PVELXC_BENCH_VMID  first vmid (default 580; the range FIRST..FIRST+COUNT-1 must be free)
#        PVELXC_BENCH_STARTED=true  start the containers (adds the /interfaces call)
#        PVELXC_BENCH_CREATE_PARALLELISM  -parallelism of the create (default 10)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-5}
count=${2:-20}
first=${PVELXC_BENCH_VMID:-580}
started=${PVELXC_BENCH_STARTED:-false}
create_parallelism=${PVELXC_BENCH_CREATE_PARALLELISM:-10}
env_file=${PVE_TESTHOST_ENV:-/run/pve-testhost/testhost.json}
profile=${PVELXC_PROFILE:-release}
target=${CARGO_TARGET_DIR:-$repo/target}

for tool in jq hyperfine; do
  command -v "$tool" >/dev/null || { echo "container-refresh: $tool is missing (apt-get install $tool)" >&2; exit 1; }
done
[[ -r $env_file ]] || { echo "container-refresh: $env_file not found; bring the node up (scripts/test.sh or pve-testhost up)" >&2; exit 1; }
if [[ -n ${TERRAFORM:-} ]]; then
  tf=$TERRAFORM
elif [[ -x $repo/.cache/bin/terraform-1.15 ]]; then
  tf=$repo/.cache/bin/terraform-1.15
else
  tf=$(command -v terraform) || { echo "container-refresh: no Terraform (run scripts/terraform.sh setup)" >&2; exit 1; }
fi

build_args=(build --quiet -p terraform-provider-pvelxc --bin terraform-provider-pvelxc)
[[ $profile == release ]] && build_args+=(--release)
(cd "$repo" && cargo "${build_args[@]}")
provider_dir=$target/$profile

work=$(mktemp -d /tmp/pvelxc-refresh-bench.XXXXXX)
cat >"$work/terraformrc" <<RC
provider_installation {
  dev_overrides {
    "registry.terraform.io/pvelxc/pvelxc" = "$provider_dir"
  }
  direct {}
}
RC
export TF_CLI_CONFIG_FILE=$work/terraformrc TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
unset TF_LOG TF_LOG_PATH TF_LOG_PROVIDER

j() { jq -r "$1" "$env_file"; }
template=$(j '[.templates[] | if test(":") then . else "local:vztmpl/" + . end] | (map(select(test("debian-12"))) + .)[0]')
cat >"$work/main.tf" <<HCL
terraform {
  required_providers {
    pvelxc = { source = "pvelxc/pvelxc" }
  }
}

provider "pvelxc" {
  endpoint  = "$(j .api.endpoint)"
  api_token = "$(j .api.token)"
  username  = "root@pam"
  password  = "$(j .api.root_password)"
  ca_cert   = file("$(j .api.ca_cert)")
  node      = "$(j .node)"
  ssh {
    host        = "$(j .ssh.host)"
    port        = $(j .ssh.port)
    user        = "$(j .ssh.user)"
    private_key = "$(j .ssh.private_key)"
    known_hosts = "$(j .ssh.known_hosts)"
  }
}

resource "pvelxc_container" "bench" {
  count    = $count
  vmid     = $first + count.index
  hostname = "refresh-\${count.index}"
  template = "$template"
  memory   = 128
  tags     = ["bench"]
  started  = $started
  rootfs {
    storage = "local"
    size    = "1G"
  }
  network {
    name   = "eth0"
    bridge = "$(j .bridge)"
    ip     = "dhcp"
  }
  mount_point {
    slot   = 0
    volume = "/mnt/storage"
    path   = "/mnt/storage"
  }
}
HCL

cleanup() {
  echo "destroying the $count containers" >&2
  (cd "$work" && "$tf" destroy -auto-approve -input=false -no-color -parallelism=10 >"$work/destroy.log" 2>&1) ||
    echo "container-refresh: destroy failed, see $work/destroy.log" >&2
  [[ -s $work/destroy.log ]] && grep -q "Destroy complete" "$work/destroy.log" && rm -rf "$work"
}
trap cleanup EXIT

cd "$work"
ssh -i "$(j .ssh.private_key)" -p "$(j .ssh.port)" -o UserKnownHostsFile="$(j .ssh.known_hosts)" \
  -o StrictHostKeyChecking=yes -o BatchMode=yes "$(j .ssh.user)@$(j .ssh.host)" mkdir -p /mnt/storage </dev/null
echo "creating $count containers (vmids $first..$((first + count - 1)), started=$started)" >&2
"$tf" apply -auto-approve -input=false -no-color -parallelism="$create_parallelism" >"$work/apply.log" 2>&1 ||
  { echo "container-refresh: apply failed:" >&2; tail -40 "$work/apply.log" >&2; exit 1; }
"$tf" plan -detailed-exitcode -input=false -no-color >"$work/plan0.log" 2>&1 ||
  { echo "container-refresh: the plan after apply is not empty:" >&2; tail -40 "$work/plan0.log" >&2; exit 1; }

# API calls of one refresh, from the provider's debug log.
TF_LOG_PROVIDER=DEBUG TF_LOG_PATH=$work/count.log "$tf" plan -input=false -no-color >/dev/null 2>&1
requests=$(grep -c 'terraform-provider-pvelxc: PVE request:' "$work/count.log" || true)
logins=$(grep -c 'requesting a PVE ticket' "$work/count.log" || true)
by_endpoint=$(grep 'terraform-provider-pvelxc: PVE request:' "$work/count.log" | grep -o ' path=[^ ]*' |
  sed -E 's#/lxc/[0-9]+#/lxc/{vmid}#; s# path=##' | sort | uniq -c | sort -rn || true)

hyperfine --runs "$runs" --warmup 1 --export-json "$work/hyperfine.json" \
  "$tf plan -input=false -no-color -detailed-exitcode" >&2

mean=$(jq '.results[0].mean' "$work/hyperfine.json")
min=$(jq '.results[0].min' "$work/hyperfine.json")
max=$(jq '.results[0].max' "$work/hyperfine.json")
median=$(jq '.results[0].median' "$work/hyperfine.json")
echo
echo "| containers | started | plan (refresh) wall time min / median / max | per container (median) | API requests per plan | per container |"
echo "|---|---|---|---|---|---|"
awk -v c="$count" -v s="$started" -v mn="$min" -v md="$median" -v mx="$max" -v r="$requests" \
  'BEGIN { printf "| %d | %s | %.2f / %.2f / %.2f s | %.0f ms | %d | %.2f |\n", c, s, mn, md, mx, md * 1000 / c, r, r / c }'
echo
echo "ticket logins in that plan: $logins; mean wall time $mean s over $runs runs"
echo "requests by endpoint (vmids folded):"
echo "$by_endpoint"
