#!/bin/bash
# Times `labctl up` of one team on qemu:///system, image cached: per VM, when each stage was
# reached (seconds after the VM was started), how long labctl itself worked (the apply phase:
# networks, pool, base import, overlays, seeds, defines; then the stack deploy), and the disk
# each VM adds (its overlay's allocation) against the base image. Removes the team at the end.
#
#   bench/up_team.sh [--vms N] [--vcpus N] [--labctl PATH] [--image-name NAME] [--boot kernel|efi]
#
# Needs root, a running libvirtd (provision/bootstrap) and python3 for the summary. The stack
# is the stand-in (--standin): no registry is reachable on the development machines.
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
lab=$work/lab.yaml
BENCH_IMAGE="{ build: debian-12, with: [docker]${image_name:+, name: $image_name}${boot:+, boot: $boot} }" \
  bench_lab "$classroom" bench "$vms" "$vcpus" "lan lab" \
  "{ instances: [ { name: main, version: 6.0.0, db: h2 } ] }" \
  "squashtm: { image: labctl-standin/squash-tm }" >"$lab"

run() { "$labctl" -f "$lab" --connect qemu:///system "$@"; }
cleanup() { run down --all --yes >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

# The image first, outside the timing: a cold cache would add its build to the total.
if ! run image build >"$work/image-build.log" 2>&1; then
  cat "$work/image-build.log" >&2
  echo "up_team.sh: labctl image build failed" >&2
  exit 1
fi
start=$(date +%s.%N)
run --json up --all --standin >"$work/result.json" 2>"$work/events.jsonl"
end=$(date +%s.%N)

pool=$classroom-pool
alloc() { virsh -q -c qemu:///system vol-dumpxml --pool "$pool" "$1" |
  sed -n 's:.*<allocation unit=.bytes.>\([0-9]*\)</allocation>.*:\1:p'; }
base=$(alloc "$classroom-base.qcow2")
overlays=""
for i in $(seq 1 "$vms"); do
  overlays="$overlays $(alloc "$classroom-bench-vm$i.qcow2")"
done

python3 - "$work/events.jsonl" "$start" "$end" "$base" $overlays <<'PY'
import json, sys
events = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
total = float(sys.argv[3]) - float(sys.argv[2])
base = int(sys.argv[4]); overlays = [int(x) for x in sys.argv[5:]]
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
for i, o in enumerate(overlays, 1):
    print(f"  disk: vm{i} overlay {o / 2**20:.1f} MiB allocated; base image {base / 2**20:.0f} MiB, shared")
PY
