#!/usr/bin/env bash
# The demo, from a fresh Debian 12 machine as root:
#   1. installs and builds everything (scripts/setup.sh),
#   2. brings up pve-testhost, a Proxmox VE node stand-in running real LXC,
#   3. runs `terraform apply` with the locally built provider (examples/idmap),
#   4. builds the runbook's transcoder container on the node (privileged, GPU cgroup2
#      lines, /mnt/storage bind mount, nesting, firewall off), pushes pvelxc-agent into
#      it and converges the media user, groups and networking from the inside,
#   5. feeds a generated sample video (eng/bul/fre audio, eng/bul/ger subtitles) through
#      the job runner with the runbook's transcode profile, and prints where it landed.
# Running it twice is safe. `bash scripts/demo.sh down` removes everything it made.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/log.sh

demo_dir=/var/lib/pvelxc-demo
vmid=201
target_dir=${CARGO_TARGET_DIR:-$PWD/target}
testhost=$target_dir/debug/pve-testhost
node_ssh() { acceptance-tests/pve-testhost/scripts/node-ssh.sh "$@"; }

if [[ ${1:-} == down ]]; then
  step "tearing the demo down"
  if [[ -x $testhost ]] && "$testhost" status >/dev/null 2>&1; then
    node_ssh "pct stop $vmid >/dev/null 2>&1; pct destroy $vmid >/dev/null 2>&1" || true
    "$testhost" down
  fi
  rm -rf "$demo_dir"
  info "done: no node, container or demo files are left"
  exit 0
fi

bash scripts/setup.sh
source scripts/terraform.sh

step "pve-testhost up (a PVE node on real LXC, cgroup2 only)"
cargo build --quiet -p pve-testhost -p pve-testhost-runtime --bins
"$testhost" up >/dev/null
# shellcheck source=/dev/null
source /run/pve-testhost/testhost.env
info "API  $PVE_TESTHOST_ENDPOINT  (CA fingerprint ${PVE_TESTHOST_CA_FINGERPRINT:0:23}…)"
info "SSH  $PVE_TESTHOST_SSH_USER@$PVE_TESTHOST_SSH_HOST:$PVE_TESTHOST_SSH_PORT"

step "terraform apply examples/idmap (Terraform $(terraform-1.15 version | head -n1 | cut -d' ' -f2), provider built here)"
(
  cd examples/idmap
  terraform-1.15 init -input=false -no-color >/dev/null
  terraform-1.15 apply -auto-approve -input=false -no-color | sed -n '/^Outputs:/,$p'
)

step "the runbook's transcoder container (CT $vmid) on the node"
mkdir -p /mnt/storage/staging /mnt/storage/media
if ! node_ssh "pct status $vmid" >/dev/null 2>&1; then
  info "creating from local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst (about a minute)"
  node_ssh "pct create $vmid local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst \
    --hostname transcoder --cores 8 --memory 8192 --swap 2048 --rootfs local:20 \
    --net0 name=eth0,bridge=$PVE_TESTHOST_BRIDGE,ip=dhcp,firewall=0 \
    --features nesting=1 --mp0 /mnt/storage,mp=/mnt/storage"
  node_ssh "printf '%s\n' 'lxc.cgroup2.devices.allow: c 226:0 rwm' 'lxc.cgroup2.devices.allow: c 226:128 rwm' \
    'lxc.mount.entry: /dev/dri dev/dri none bind,optional,create=dir' >> /etc/pve/lxc/$vmid.conf"
fi
node_ssh "pct status $vmid" | grep -q running || node_ssh "pct start $vmid"
info "/etc/pve/lxc/$vmid.conf:"
node_ssh "cat /etc/pve/lxc/$vmid.conf" | sed 's/^/      /'

step "pvelxc-agent converges the container from the inside"
agent=$(scripts/build-agent.sh)
info "agent $(du -h "$agent" | cut -f1), static"
spec=$(mktemp)
trap 'rm -f "$spec"' EXIT
cat >"$spec" <<'JSON'
{
  "version": 1,
  "allowed_roots": ["/etc", "/mnt/storage", "/home"],
  "items": [
    {"group": {"name": "media", "gid": 1000}},
    {"group": {"name": "video", "gid": 44}},
    {"group": {"name": "render", "gid": 104}},
    {"user": {"name": "media", "uid": 1000, "group": "media", "groups": ["video", "render"], "shell": "/bin/bash"}},
    {"network_interface": {"name": "eth0"}},
    {"directory": {"path": "/mnt/storage/staging", "owner": "media", "group": "media", "mode": "2775"}},
    {"check": {"name": "staging-writable", "user": "media", "check": {"writable": {"path": "/mnt/storage/staging"}}}}
  ]
}
JSON
node_ssh "pct push $vmid $agent /usr/local/bin/pvelxc-agent --perms 0755 && pct push $vmid $spec /root/media.json"
for run in first second; do
  set +e
  report=$(node_ssh "pct exec $vmid -- /usr/local/bin/pvelxc-agent apply --json /root/media.json")
  rc=$?
  set -e
  ((rc == 0 || rc == 2)) || { echo "$report"; die "pvelxc-agent apply failed in CT $vmid (exit $rc)"; }
  info "$run run: $(jq -r '[.items[].status] | group_by(.) | map("\(length) \(.[0])") | join(", ")' <<<"$report")"
done
node_ssh "pct exec $vmid -- id media" | sed 's/^/      /'

step "job runner: a sample video through the runbook's transcode profile"
mkdir -p "$demo_dir"
sample=$demo_dir/staging/sample.mkv
mkdir -p "$demo_dir/staging" "$demo_dir/library" "$demo_dir/work" "$demo_dir/state"
if [[ ! -s $sample ]]; then
  for lang in eng bul ger; do
    printf '1\n00:00:00,500 --> 00:00:03,000\n%s subtitle\n' "$lang" >"$demo_dir/sub-$lang.srt"
  done
  ffmpeg -v error -y -f lavfi -i testsrc=duration=6:size=640x360:rate=25 \
    -f lavfi -i sine=frequency=440:duration=6 -f lavfi -i sine=frequency=550:duration=6 \
    -f lavfi -i sine=frequency=660:duration=6 \
    -i "$demo_dir/sub-eng.srt" -i "$demo_dir/sub-bul.srt" -i "$demo_dir/sub-ger.srt" \
    -map 0 -map 1 -map 2 -map 3 -map 4 -map 5 -map 6 -c:v libx264 -preset ultrafast -c:a aac -c:s srt \
    -metadata:s:a:0 language=eng -metadata:s:a:1 language=bul -metadata:s:a:2 language=fre \
    -metadata:s:s:0 language=eng -metadata:s:s:1 language=bul -metadata:s:s:2 language=ger "$sample"
fi
cat >"$demo_dir/jobs.json" <<JSON
{
  "staging_dir": "$demo_dir/staging",
  "library_dir": "$demo_dir/library",
  "work_dir": "$demo_dir/work",
  "state_dir": "$demo_dir/state",
  "source_policy": "keep",
  "status_listen": "127.0.0.1:0",
  "media_user": {"uid": 0, "gid": 0}
}
JSON
jobs() { "$agent" jobs --config "$demo_dir/jobs.json" "$@"; }
jobs daemon >"$demo_dir/daemon.log" 2>&1 &
daemon=$!
trap 'kill $daemon 2>/dev/null || true; rm -f "$spec"' EXIT
job=$(jobs add "$sample" --title "Demo Reel" --year 2026 | jq -r .id)
info "job $job queued; transcoding with libx265 preset slow, CRF 18 (the runbook's command)"
for _ in $(seq 1 600); do
  kill -0 "$daemon" 2>/dev/null || { cat "$demo_dir/daemon.log" >&2; die "the job runner stopped; its log is above"; }
  state=$(jobs status "$job" | jq -r '.state')
  [[ $state == done || $state == failed || $state == cancelled ]] && break
  sleep 1
done
kill "$daemon" 2>/dev/null || true
[[ $state == done ]] || { jobs logs "$job" || true; die "job $job ended as '$state'"; }
out=$(find "$demo_dir/library" -name '*.mkv' -type f | head -n1)

step "result"
info "library file: $out"
ffprobe -v error -show_entries stream=index,codec_type,codec_name:stream_tags=language -of csv=p=0 "$out" |
  sed 's/^/      stream /'
info "source kept:  $sample"
info "tear down:    bash scripts/demo.sh down"
