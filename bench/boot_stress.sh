#!/bin/bash
# Boots one team again and again on qemu:///system and counts the VMs that fail to reach
# `docker up`: the boot race of issue 13 (udev renaming a NIC while cloud-init's local stage
# parses the network-config) failed 2 boots of 16 with 4 VMs of 2 vCPUs started together.
# Each round is a fresh `up` (new overlays, seeds and first boots) then `down --all`. Per boot
# it prints the stage reached or failed with labctl's message, and what the VM's serial
# console shows of the race: a NIC renamed by udev ("renamed from eth0"), cloud-init's
# KeyError. The VMs run no instance, so the last stage is Docker answering.
#
#   bench/boot_stress.sh [--rounds N] [--vms N] [--vcpus N] [--labctl PATH] [--recipe DIR]
#
# --recipe DIR: a directory holding images/build-debian, used instead of the tree's (to
# boot an image made by an older recipe, e.g. `git show REV:provision/images/build-debian`).
# Needs root and a running libvirtd (provision/bootstrap), python3 for the summary.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

rounds=5
vms=4
vcpus=2
labctl=$(cd "$(dirname "$0")/.." && pwd)/build/dev/labctl
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --vms) vms=$2; shift 2 ;;
    --vcpus) vcpus=$2; shift 2 ;;
    --labctl) labctl=$2; shift 2 ;;
    --recipe) export LABCTL_DATA_DIR=$2; shift 2 ;;
    *) echo "boot_stress.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

work=$(mktemp -d /tmp/lct-bench-stress.XXXXXX)
classroom=bs$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
export LABCTL_STATE_DIR=$work/state
lab=$work/lab.yaml
bench_lab "$classroom" stress "$vms" "$vcpus" "lan lab" "{}" "timeouts: { address: 300s }" >"$lab"

run() { "$labctl" -f "$lab" --connect qemu:///system "$@"; }
cleanup() { run down --all --yes >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
trap "exit 1" INT TERM

if ! run image build >"$work/image-build.log" 2>&1; then
  cat "$work/image-build.log" >&2
  echo "boot_stress.sh: labctl image build failed" >&2
  exit 1
fi
mkdir -p "$work/rounds"
for r in $(seq 1 "$rounds"); do
  start=$(date +%s)
  run --json -q up --all >"$work/rounds/$r.json" 2>/dev/null || true
  echo "round $r: up took $(($(date +%s) - start)) s" >&2
  mkdir -p "$work/rounds/$r.logs"
  cp "$LABCTL_STATE_DIR/$classroom"/logs/*.serial.log "$work/rounds/$r.logs/" 2>/dev/null || true
  run down --all --yes >/dev/null 2>&1
done

python3 - "$work/rounds" "$rounds" <<'PY'
import glob, json, os, sys
root, rounds = sys.argv[1], int(sys.argv[2])
boots = failures = renamed = keyerrors = 0
for r in range(1, rounds + 1):
    try:
        doc = json.load(open(f"{root}/{r}.json"))
    except (OSError, ValueError) as e:
        print(f"round {r}: no result from up ({e})"); failures += 1; continue
    rows = doc if isinstance(doc, list) else doc.get("vms", doc.get("result", []))
    for row in rows:
        boots += 1
        vm = row.get("vm", "?")
        logs = glob.glob(f"{root}/{r}.logs/*-{vm}.serial.log")
        text = open(logs[0], errors="replace").read() if logs else ""
        ren = any("virtio_net" in l and "renamed from" in l for l in text.splitlines())
        key = "KeyError" in text
        renamed += ren; keyerrors += key
        failed = row.get("failed", "")
        failures += bool(failed)
        what = f"FAILED at {failed}: {row.get('message', '')}" if failed else f"ok ({row.get('stage')})"
        print(f"round {r} {vm}: {what}; console: {'NIC renamed' if ren else 'no rename'}"
              f"{', KeyError' if key else ''}")
print(f"boots: {boots}, failed: {failures}, NIC renamed by udev: {renamed}, "
      f"cloud-init KeyError: {keyerrors}")
PY
