#!/bin/bash
# Times `labctl up` of one team on qemu:///system, image cached: per VM, when each stage was
# reached (seconds after the VM was started), how long labctl itself worked (the apply phase:
# networks, pool, base import, overlays, seeds, defines; then the stack deploy), and the disk
# each VM adds (its overlay's allocation) against the base image. Removes the team at the end.
#
#   bench/up_team.sh [--vms N] [--vcpus N] [--labctl PATH] [--image-name NAME] [--boot kernel|efi]
#
# Needs root, a running libvirtd (provision/bootstrap), the host's dockerd and python3 for the
# summary. The stack is the stand-in (--standin): no Docker Hub here, so the stand-in images are
# built on this host (once, cached) and pulled by the VMs through the classroom registry. Also
# timed: the stack stage per VM (from `docker up` to `stack healthy`), `squash add` of a version
# the cache holds, and how often the upstream (the stand-in registry) was asked for each blob.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

vms=1
vcpus=1
labctl=$(cd "$(dirname "$0")/.." && pwd)/build/dev/labctl
image_name=""
boot=""
while [ $# -gt 0 ]; do
  case "$1" in
    --vms) vms=$2; shift 2 ;;
    --vcpus) vcpus=$2; shift 2 ;;
    --labctl) labctl=$2; shift 2 ;;
    --image-name) image_name=$2; shift 2 ;;
    --boot) boot=$2; shift 2 ;;
    *) echo "up_team.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

work=$(mktemp -d /tmp/lct-bench-up.XXXXXX)
classroom=bench$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
export LABCTL_STATE_DIR=$work/state
# A fresh classroom registry (and stand-in registry) for this run: the upstream's log then
# shows every fetch the classroom needed. The stand-ins' root file system stays cached.
export LABCTL_REGISTRY_CACHE=$work/registry-cache
lab=$work/lab.yaml
BENCH_IMAGE="{ build: debian-12, with: [docker]${image_name:+, name: $image_name}${boot:+, boot: $boot} }" \
  bench_lab "$classroom" bench "$vms" "$vcpus" "lan lab" \
  "{ instances: [ { name: main, version: 6.0.0, db: h2 } ] }" \
  "squashtm: { memory: 512MiB }" >"$lab"

run() { "$labctl" -f "$lab" --connect qemu:///system "$@"; }
cleanup() { run down --all --yes >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

# The image first, outside the timing: a cold cache would add its build to the total.
if ! run image build >"$work/image-build.log" 2>&1; then
  cat "$work/image-build.log" >&2
  echo "up_team.sh: labctl image build failed" >&2
  exit 1
fi
upstream_log=$LABCTL_REGISTRY_CACHE/standin/registry/registry.log
start=$(date +%s.%N)
run --json up --all --standin >"$work/result.json" 2>"$work/events.jsonl"
end=$(date +%s.%N)
add_start=$(date +%s.%N)
run squash add bench vm1 --version 6.0.0 --name second --db h2 >"$work/add.log" 2>&1 ||
  { cat "$work/add.log" >&2; echo "up_team.sh: squash add failed" >&2; }
add_end=$(date +%s.%N)
cp "$upstream_log" "$work/upstream.log" 2>/dev/null || : >"$work/upstream.log"

pool=$classroom-pool
alloc() { virsh -q -c qemu:///system vol-dumpxml --pool "$pool" "$1" |
  sed -n 's:.*<allocation unit=.bytes.>\([0-9]*\)</allocation>.*:\1:p'; }
base=$(alloc "$classroom-base.qcow2")
overlays=""
for i in $(seq 1 "$vms"); do
  overlays="$overlays $(alloc "$classroom-bench-vm$i.qcow2")"
done

python3 - "$work/events.jsonl" "$start" "$end" "$add_start" "$add_end" "$work/upstream.log" \
  "$base" $overlays <<'PY'
import collections, json, re, sys
events = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
total = float(sys.argv[3]) - float(sys.argv[2])
add = float(sys.argv[5]) - float(sys.argv[4])
upstream = open(sys.argv[6]).read().splitlines()
base = int(sys.argv[7]); overlays = [int(x) for x in sys.argv[8:]]
started, stages, deploy = {}, {}, {}
apply_end = 0.0
for e in events:
    vm, subj, t = e["vm"], e["subject"], e["t"]
    if e["state"] != "done":
        continue
    if subj.startswith("start vm"):
        started[vm] = t
    if not subj.startswith("stage"):
        apply_end = max(apply_end, t) if subj.startswith(("create", "start")) else apply_end
    if subj.startswith("stage"):
        stages.setdefault(vm, {}).setdefault(subj[6:], t)
    if subj == "deploy stack":
        deploy[vm] = e["seconds"]
print(f"labctl up, one team of {len(started)} VM(s), image cached: {total:.1f} s in all")
print(f"  apply (networks, pool, base import, overlays, seeds, defines, starts): {apply_end:.1f} s")
for vm in sorted(stages):
    line = ", ".join(f"{s} {t - started[vm]:.0f}" for s, t in stages[vm].items() if vm in started)
    print(f"  {vm}: seconds after start: {line}; stack deploy {deploy.get(vm, 0):.1f} s")
ready = max(max(s.values()) for s in stages.values())
print(f"  after the last stage until exit: {total - ready:.1f} s")
own = apply_end + (total - ready)
print(f"  labctl's own work (apply + exit), not waiting on guests: {own:.1f} s = {100 * own / total:.1f}% of the total")
stack = [t["stack healthy"] - t["docker up"] for t in stages.values()
         if "stack healthy" in t and "docker up" in t]
if stack:
    print("  stack stage (docker up -> stack healthy) per VM: " +
          ", ".join(f"{s:.1f}" for s in stack) + f" s; slowest {max(stack):.1f} s")
for e in events:
    if e["subject"] == "cache images":
        print(f"  classroom registry filled on the host while the VMs booted: {e['seconds']:.1f} s "
              f"({e['message']})")
print(f"  squash add of a cached version (6.0.0, h2): {add:.1f} s")
gets = collections.Counter()
for line in upstream:
    m = re.search(r'"GET /v2/(\S+)/blobs/(sha256:[0-9a-f]{64}) HTTP/[0-9.]+" 200', line)
    if m:
        gets[(m.group(1), m.group(2))] += 1
per_repo = collections.defaultdict(list)
for (repo, digest), n in gets.items():
    per_repo[repo].append(n)
for repo, counts in sorted(per_repo.items()):
    print(f"  upstream GETs per blob of {repo}: {sorted(set(counts))} over {len(counts)} blobs "
          f"(docker-registry serves one cache miss with 2 GETs: 2 = fetched once)")
if not gets:
    print("  upstream: no blob was fetched during this run (the cache already held every image)")
for i, o in enumerate(overlays, 1):
    print(f"  disk: vm{i} overlay {o / 2**20:.1f} MiB allocated; base image {base / 2**20:.0f} MiB, shared")
PY
