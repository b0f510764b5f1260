#!/usr/bin/env bash
# The demo, from a fresh Debian 12 machine as root:
#   1. installs and builds everything (scripts/setup.sh),
#   2. brings up pve-testhost, a Proxmox VE node stand-in running real LXC,
#   3. runs `terraform apply` on examples/media-pipeline with the provider built here: the
#      runbook's privileged transcoder (GPU) and ripper (optical drive) with /mnt/storage,
#      configured from the inside by pvelxc-agent (media user and groups, packages, DHCP fix,
#      the job runner as a systemd unit), then `terraform plan` to show nothing is left,
#   4. drops a generated sample video (eng/bul/fre audio, eng/bul/ger subtitles) into the
#      shared staging directory and has the transcoder's job runner turn it into a library
#      file, and prints where it landed, its streams and its owner.
# Running it twice is safe. `bash scripts/demo.sh down` removes everything it made.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/log.sh

demo_dir=/var/lib/pvelxc-demo
work=$demo_dir/media-pipeline
storage=/mnt/storage
transcoder=201
target_dir=${CARGO_TARGET_DIR:-$PWD/target}
testhost=$target_dir/debug/pve-testhost
node_ssh() { acceptance-tests/pve-testhost/scripts/node-ssh.sh "$@"; }

provider_env() {
  # shellcheck source=/dev/null
  source /run/pve-testhost/testhost.env
  export PVELXC_ENDPOINT=$PVE_TESTHOST_ENDPOINT PVELXC_API_TOKEN=$PVE_TESTHOST_TOKEN \
    PVELXC_USERNAME=root@pam PVELXC_PASSWORD=$PVE_TESTHOST_ROOT_PASSWORD \
    PVELXC_CA_CERT=$PVE_TESTHOST_CA_CERT PVELXC_NODE=$PVE_TESTHOST_NODE \
    PVELXC_SSH_HOST=$PVE_TESTHOST_SSH_HOST PVELXC_SSH_PORT=$PVE_TESTHOST_SSH_PORT \
    PVELXC_SSH_USER=$PVE_TESTHOST_SSH_USER PVELXC_SSH_PRIVATE_KEY=$PVE_TESTHOST_SSH_KEY \
    PVELXC_SSH_KNOWN_HOSTS=$PVE_TESTHOST_SSH_KNOWN_HOSTS
}

if [[ ${1:-} == down ]]; then
  step "tearing the demo down"
  if [[ -x $testhost ]] && "$testhost" status >/dev/null 2>&1; then
    if [[ -f $work/terraform.tfstate ]]; then
      source scripts/terraform.sh
      provider_env
      export PVELXC_AGENT_BINARY=${PVELXC_AGENT_BINARY:-$(scripts/build-agent.sh)}
      (cd "$work" && terraform-1.15 destroy -auto-approve -input=false -no-color | tail -n 1) ||
        warn "terraform destroy failed; pve-testhost down removes the containers anyway"
    fi
    "$testhost" down
  fi
  rm -rf "$demo_dir" "$storage/staging/Demo Reel (2026).mkv" "$storage/media/Movies/Demo Reel (2026)"
  info "done: no node, container or demo files are left"
  exit 0
fi

bash scripts/setup.sh
source scripts/terraform.sh

step "pve-testhost up (a PVE node on real LXC, cgroup2 only)"
cargo build --quiet -p pve-testhost -p pve-testhost-runtime --bins
"$testhost" up >/dev/null
provider_env
info "API  $PVE_TESTHOST_ENDPOINT  (CA fingerprint ${PVE_TESTHOST_CA_FINGERPRINT:0:23}…)"
info "SSH  $PVE_TESTHOST_SSH_USER@$PVE_TESTHOST_SSH_HOST:$PVE_TESTHOST_SSH_PORT"

agent=$(scripts/build-agent.sh)
export PVELXC_AGENT_BINARY=$agent
info "agent $(du -h "$agent" | cut -f1), static; the provider pushes it with pct push"

# The pool the containers share; the media user (1000) owns the directories it writes.
mkdir -p "$storage"
install -d -o 1000 -g 1000 -m 2775 "$storage/staging" "$storage/media"

step "terraform apply examples/media-pipeline (Terraform $(terraform-1.15 version | head -n1 | cut -d' ' -f2), provider built here)"
mkdir -p "$work" "$demo_dir/node-root/etc"
# The node-side agent works in a scratch root here (this machine is the test node, and its
# UID 1000 may already be someone else); seed it with the account files a node has.
node_etc=$demo_dir/node-root/etc
[[ -s $node_etc/passwd ]] || printf 'root:x:0:0:root:/root:/bin/bash\n' >"$node_etc/passwd"
[[ -s $node_etc/group ]] || printf 'root:x:0:\n' >"$node_etc/group"
[[ -s $node_etc/shadow ]] || install -m 0640 /dev/null "$node_etc/shadow"
[[ -s $node_etc/shadow ]] || printf 'root:*:20000:0:99999:7:::\n' >"$node_etc/shadow"
[[ -s $node_etc/gshadow ]] || install -m 0640 /dev/null "$node_etc/gshadow"
[[ -s $node_etc/gshadow ]] || printf 'root:*::\n' >"$node_etc/gshadow"
cp examples/media-pipeline/*.tf "$work/"
cat >"$work/terraform.tfvars" <<TFVARS
# pve-testhost differs from a real node only here: a directory storage, no real GPU to
# run vainfo on, and the node-side agent confined to a scratch root.
storage    = "local"
bridge     = "$PVE_TESTHOST_BRIDGE"
verify_gpu = false
node_root  = "$demo_dir/node-root"
TFVARS
(
  cd "$work"
  # The provider is rebuilt from this checkout on every run, so its checksum changes.
  rm -f .terraform.lock.hcl
  terraform-1.15 init -input=false -no-color >/dev/null
  info "creating the containers, then installing packages inside them (a few minutes);"
  info "Terraform prints 'Still creating…' every 10 s"
  terraform-1.15 apply -auto-approve -input=false -no-color |
    grep -E --line-buffered 'Creating|Still creating|Creation complete|Modifying|Modifications complete|Apply complete|Error' |
    sed -u 's/^/      /'
  set +e
  terraform-1.15 plan -detailed-exitcode -input=false -no-color >"$demo_dir/plan.txt"
  rc=$?
  set -e
  case $rc in
    0) info "terraform plan: no changes (nothing drifted, nothing left to do)" ;;
    2) cat "$demo_dir/plan.txt"; die "terraform plan still shows changes after apply" ;;
    *) cat "$demo_dir/plan.txt"; die "terraform plan failed" ;;
  esac
)
info "/etc/pve/lxc/$transcoder.conf:"
node_ssh "cat /etc/pve/lxc/$transcoder.conf" | sed 's/^/      /'
node_ssh "pct exec $transcoder -- id media" | sed 's/^/      /'

step "job runner: a sample video through the transcoder"
# The runner watches staging and names the library entry from the file name.
sample="$storage/staging/Demo Reel (2026).mkv"
# The runner never overwrites a library entry, so a second demo run would stop at publish:
# the demo removes the entry its previous run filed (and only that one), and writes a fresh
# sample each run (a new file is a new job; the same file is the same, finished, job).
if [[ -e "$storage/media/Movies/Demo Reel (2026)" ]]; then
  info "removing the previous demo run's library entry (the runner never overwrites one)"
  rm -rf "$storage/media/Movies/Demo Reel (2026)"
fi
{
  tmp=$(mktemp -d)
  for lang in eng bul ger; do
    printf '1\n00:00:00,500 --> 00:00:03,000\n%s subtitle\n' "$lang" >"$tmp/sub-$lang.srt"
  done
  ffmpeg -v error -y -f lavfi -i testsrc=duration=6:size=640x360:rate=25 \
    -f lavfi -i sine=frequency=440:duration=6 -f lavfi -i sine=frequency=550:duration=6 \
    -f lavfi -i sine=frequency=660:duration=6 \
    -i "$tmp/sub-eng.srt" -i "$tmp/sub-bul.srt" -i "$tmp/sub-ger.srt" \
    -map 0 -map 1 -map 2 -map 3 -map 4 -map 5 -map 6 -c:v libx264 -preset ultrafast -c:a aac -c:s srt \
    -metadata:s:a:0 language=eng -metadata:s:a:1 language=bul -metadata:s:a:2 language=fre \
    -metadata:s:s:0 language=eng -metadata:s:s:1 language=bul -metadata:s:s:2 language=ger \
    "$tmp/sample.mkv"
  # Renamed into place whole, so the staging watcher never sees a partial file.
  install -o 1000 -g 1000 -m 0664 "$tmp/sample.mkv" "$storage/staging/.demo-sample.tmp"
  mv -f "$storage/staging/.demo-sample.tmp" "$sample"
  rm -rf "$tmp"
}
jobs() { node_ssh "pct exec $transcoder -- /usr/local/sbin/pvelxc-agent jobs --config /etc/pvelxc/jobs.json $*"; }
job=$(jobs add "$(printf '%q' "$sample")" --title "$(printf '%q' 'Demo Reel')" --year 2026 | jq -r .id)
info "job $job queued in CT $transcoder; transcoding with libx265 preset slow, CRF 18 (the runbook's command)"
state=queued
for _ in $(seq 1 600); do
  state=$(jobs status "$job" | jq -r '.state')
  [[ $state == done || $state == failed || $state == cancelled ]] && break
  sleep 2
done
[[ $state == done ]] || { jobs logs "$job" || true; die "job $job ended as '$state'"; }
out=$(find "$storage/media" -name 'Demo Reel (2026).mkv' -type f | head -n1)
[[ -n $out ]] || die "the job is done but no library file was found under $storage/media"

step "result"
info "library file: $out"
info "owner:        $(stat -c '%u:%g (%U:%G on this machine)' "$out"), the media user's 1000:1000"
ffprobe -v error -show_entries stream=index,codec_type,codec_name:stream_tags=language -of csv=p=0 "$out" |
  sed 's/^/      stream /'
info "source kept:  $sample"
info "tear down:    bash scripts/demo.sh down"
