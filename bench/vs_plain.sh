#!/bin/bash
# labctl against the plain script, side by side in one run (issue 13, point 10): per round,
# bench/plain_team.sh boots a team of N VMs from labctl's own image, and `labctl up` boots
# the same team (same image, vCPUs, memory, one NAT network, no instance), each timed from
# its start until every VM has its address and Docker answers. The plain script starts its VMs
# all at once; labctl starts them as its boot order under TCG decides (README, "Boot order
# under TCG": one after another on this 2-core machine). Then it prints, per round and
# as medians, both totals and the ratio labctl / plain, and where the time went inside the
# guests: the uptime at which each VM's cloud-init started its stages and printed its final
# message (read from the serial consoles), so that a difference can be placed in a stage;
# labctl's time before its wait and its longest actions; each side's host CPU by process
# (bench/cpu_by_process.py). The sides take turns at going first (odd rounds: plain).
#
#   bench/vs_plain.sh [--rounds N] [--vms N] [--vcpus N] [--labctl PATH]
#
# Needs root, a running libvirtd (provision/bootstrap), xorriso and python3; virt-install is
# installed by plain_team.sh when missing. Run it on a quiet machine: both sides compete with
# anything else for the CPU. Last line: "labctl / plain: R (median of N rounds)".
set -euo pipefail
. "$(dirname "$0")/lib.sh"

rounds=3
vms=4
vcpus=2
here=$(cd "$(dirname "$0")" && pwd)
labctl=$here/../build/dev/labctl
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --vms) vms=$2; shift 2 ;;
    --vcpus) vcpus=$2; shift 2 ;;
    --labctl) labctl=$2; shift 2 ;;
    *) echo "vs_plain.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

work=$(mktemp -d /tmp/lct-bench-vs.XXXXXX)
classroom=vs$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
export LABCTL_STATE_DIR=$work/state
lab=$work/lab.yaml
bench_lab "$classroom" vs "$vms" "$vcpus" lan "{}" >"$lab"

run() { "$labctl" -f "$lab" --connect qemu:///system "$@"; }
cleanup() { run down --all --yes >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! run --json image build >"$work/image.json" 2>"$work/image-build.log"; then
  cat "$work/image-build.log" >&2
  echo "vs_plain.sh: labctl image build failed" >&2
  exit 1
fi
image=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["image"])' "$work/image.json")

# Each side's host CPU by process (labctl, libvirtd, QEMU...), to place a difference.
sampler=""
sample_start() { "$here/cpu_by_process.py" "$1" & sampler=$!; }
sample_stop() { kill -TERM "$sampler" && wait "$sampler" || true; }

plain_round() {
  sample_start "$work/$r/plain.cpu.json"
  if ! "$here/plain_team.sh" --image "$image" --vms "$vms" --vcpus "$vcpus" \
    --keep-logs "$work/$r/plain" >"$work/$r/plain.out" 2>&1; then
    sample_stop
    cat "$work/$r/plain.out" >&2
    echo "vs_plain.sh: round $r: the plain script failed" >&2
    exit 1
  fi
  sample_stop
}

labctl_round() {
  sample_start "$work/$r/labctl.cpu.json"
  start=$(date +%s.%N)
  if ! run --json up --all >"$work/$r/labctl.json" 2>"$work/$r/labctl.events"; then
    sample_stop
    cat "$work/$r/labctl.json" >&2
    echo "vs_plain.sh: round $r: labctl up failed" >&2
    exit 1
  fi
  echo "$(date +%s.%N) - $start" | bc >"$work/$r/labctl.seconds"
  sample_stop
  cp "$LABCTL_STATE_DIR/$classroom"/logs/*.serial.log "$work/$r/labctl/"
  run down --all --yes >/dev/null 2>&1
}

for r in $(seq 1 "$rounds"); do
  mkdir -p "$work/$r/plain" "$work/$r/labctl"
  # The sides take turns at going first: the second starts on a host that has just torn
  # down four VMs, and neither side should always be the one that does.
  if [ $((r % 2)) = 1 ]; then
    plain_round
    labctl_round
  else
    labctl_round
    plain_round
  fi
  echo "round $r: plain $(tail -n1 "$work/$r/plain.out" | awk '{print $(NF-1)}') s," \
    "labctl $(cut -c1-6 "$work/$r/labctl.seconds") s" >&2
done

python3 - "$work" "$rounds" <<'PY'
import glob, json, re, statistics, sys
root, rounds = sys.argv[1], int(sys.argv[2])
marks = [("init-local", r"running 'init-local' .* Up ([0-9.]+) seconds"),
         ("init", r"running 'init' .* Up ([0-9.]+) seconds"),
         ("final", r"running 'modules:final' .* Up ([0-9.]+) seconds"),
         ("done", r"(?:docker up|up) after ([0-9.]+) seconds")]
def guest(side, r):
    per = {m: [] for m, _ in marks}
    for log in sorted(glob.glob(f"{root}/{r}/{side}/*.serial.log")):
        text = open(log, errors="replace").read()
        for m, rx in marks:
            found = re.search(rx, text)
            if found:
                per[m].append(float(found.group(1)))
    return {m: statistics.median(v) for m, v in per.items() if v}
plain_t, labctl_t, ratios = [], [], []
sums = {"plain": {}, "labctl": {}}
stages = {}  # labctl's stage -> seconds of every VM of every round
for r in range(1, rounds + 1):
    p = float(open(f"{root}/{r}/plain.out").read().split()[-2])
    l = float(open(f"{root}/{r}/labctl.seconds").read())
    plain_t.append(p); labctl_t.append(l); ratios.append(l / p)
    for side in sums:
        for m, v in guest(side, r).items():
            sums[side].setdefault(m, []).append(v)
    rows = json.load(open(f"{root}/{r}/labctl.json"))
    for row in rows:
        for stage, seconds in row.get("stages", {}).items():
            stages.setdefault(stage, []).append(seconds)
    last = max(rows, key=lambda row: row.get("seconds", 0)) if rows else {}
    slowest = ", ".join(f"{s} {v:.0f}" for s, v in last.get("stages", {}).items()
                        if s not in ("defined", "running"))
    first = "plain" if r % 2 == 1 else "labctl"
    print(f"round {r} ({first} first): plain {p:.1f} s, labctl {l:.1f} s, labctl / plain"
          f" {l / p:.2f} (labctl's last VM, {last.get('vm', '?')}: {slowest})")
    events = [json.loads(line) for line in open(f"{root}/{r}/labctl.events")
              if line.startswith("{")]
    waits = [e["t"] for e in events if e["subject"].startswith("stage ")]
    slow = sorted((e for e in events if e["state"] == "done" and
                   not e["subject"].startswith(("stage ", "deploy "))),
                  key=lambda e: -e.get("seconds", 0))[:4]
    print(f"  labctl before its wait (apply, the VMs' starts included): "
          f"{min(waits, default=0):.1f} s; its longest actions: " +
          ", ".join(f"{e['subject']} {e.get('seconds', 0):.1f} s" for e in slow))
    for side in ("plain", "labctl"):
        cpu = json.load(open(f"{root}/{r}/{side}.cpu.json"))
        top = ", ".join(f"{name} {s:.1f}" for name, s in list(cpu.items())[:6])
        print(f"  host CPU s, {side:6}: total {sum(cpu.values()):.1f}; {top}")
print("inside the guests, median VM, median round (uptime in s at which cloud-init started"
      " a stage; done = final message):")
for side in ("plain", "labctl"):
    row = ", ".join(f"{m} {statistics.median(sums[side][m]):.1f}"
                    for m, _ in marks if m in sums[side])
    print(f"  {side:6} {row}")
print("  labctl's stages, median VM of every round (s after its wait began, once its last VM"
      " was started): " + ", ".join(f"{s} {statistics.median(v):.1f}"
                                       for s, v in stages.items()
                                       if s not in ("defined", "running")))
print(f"plain: median {statistics.median(plain_t):.1f} s; labctl: median "
      f"{statistics.median(labctl_t):.1f} s")
print(f"labctl / plain: {statistics.median(ratios):.2f} (median of {rounds} rounds)")
PY
