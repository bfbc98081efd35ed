#!/bin/bash
# Boots a labctl base image once under TCG and times it: from QEMU's start to the moment
# `docker info` works inside the guest (the "docker-up" line a seed's runcmd prints on the
# serial console), then prints the guest's own view per stage (systemd-analyze, blame,
# cloud-init analyze show). Nothing leaves the VM: user-mode NIC with restrict=on.
#
#   bench/image_boot.sh IMAGE_DIR [--smp N] [--keep-log FILE] [--timeout SECONDS]
#                       [--append CMDLINE]
#
# IMAGE_DIR holds disk.qcow2, vmlinux or vmlinuz, initrd.img (what `labctl image build`
# makes). The overlay, seed and QEMU live in a scratch directory removed at the end.
set -euo pipefail

image=${1:?usage: image_boot.sh IMAGE_DIR [--smp N] [--keep-log FILE] [--timeout S]}
shift
smp=1
keep_log=""
timeout=400
append='root=/dev/vda rw console=ttyS0'
while [ $# -gt 0 ]; do
  case "$1" in
    --smp) smp=$2; shift 2 ;;
    --keep-log) keep_log=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --append) append=$2; shift 2 ;;
    *) echo "image_boot.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
image=$(cd "$image" && pwd)
kernel=$image/vmlinux
[ -f "$kernel" ] || kernel=$image/vmlinuz

scratch=$(mktemp -d /tmp/lct-images-boot.XXXXXX)
qemu_pid=""
cleanup() {
  if [ -n "$qemu_pid" ]; then
    kill "$qemu_pid" 2>/dev/null || true
    wait "$qemu_pid" 2>/dev/null || true
  fi
  if [ -n "$keep_log" ] && [ -f "$scratch/serial.log" ]; then
    cp "$scratch/serial.log" "$keep_log"
  fi
  rm -rf "$scratch"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mac=52:54:00:4c:43:54
mkdir "$scratch/seed"
cat >"$scratch/seed/meta-data" <<META
instance-id: lct-images-bench-$(date +%s)
local-hostname: lct-bench
META
cat >"$scratch/seed/network-config" <<NET
version: 2
ethernets:
  lan:
    match:
      macaddress: "$mac"
    set-name: lan
    addresses: [10.0.2.15/24]
    gateway4: 10.0.2.2
    nameservers:
      addresses: [10.0.2.3]
NET
cat >"$scratch/seed/user-data" <<'USER'
#cloud-config
users:
  - name: student
    sudo: ALL=(ALL) NOPASSWD:ALL
    shell: /bin/bash
    ssh_authorized_keys:
      - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGxjdGltYWdlc2JlbmNoa2V5bm90dXNlZGFueXdoZXJl lct-bench
write_files:
  - path: /usr/local/bin/lct-report
    permissions: "0755"
    content: |
      #!/bin/sh
      # Waits for the end of boot, then prints the guest's timings on the serial console.
      systemctl is-system-running --wait >/dev/null 2>&1
      {
        echo "lct-report-begin"
        systemd-analyze
        systemd-analyze blame | head -n 25
        systemd-analyze critical-chain docker.service | head -n 20
        cloud-init analyze show 2>&1 | grep -E "Starting stage|Finished stage|Total Time|^\|" | head -n 60
        cloud-init status --long 2>&1 | head -n 5
        echo "modules:"; lsmod | tail -n +2 | cut -d" " -f1 | sort | tr "\\n" " "; echo
        systemctl list-units --failed --no-legend
        echo "lct-report-end"
      } >/dev/ttyS0 2>&1
runcmd:
  - [sh, -c, 'until docker info >/dev/null 2>&1; do sleep 0.5; done; echo "docker-up $(cut -d " " -f1 /proc/uptime)" >/dev/ttyS0']
  - [systemd-run, --no-block, --unit=lct-report, /usr/local/bin/lct-report]
USER
xorriso -as mkisofs -quiet -V cidata -J -R -o "$scratch/seed.iso" "$scratch/seed" 2>/dev/null
qemu-img create -q -f qcow2 -b "$image/disk.qcow2" -F qcow2 "$scratch/overlay.qcow2" 8G

start=$(date +%s.%N)
qemu-system-x86_64 -accel tcg -machine pc -m 2048 -smp "$smp" \
  -display none -monitor none -serial "file:$scratch/serial.log" \
  -kernel "$kernel" -initrd "$image/initrd.img" -append "$append" \
  -drive "file=$scratch/overlay.qcow2,if=virtio" -cdrom "$scratch/seed.iso" \
  -nic "user,restrict=on,model=virtio-net-pci,mac=$mac" </dev/null &
qemu_pid=$!

elapsed() { echo "$(date +%s.%N) - $start" | bc; }
wait_for() {
  while ! grep -aq "$1" "$scratch/serial.log" 2>/dev/null; do
    if ! kill -0 "$qemu_pid" 2>/dev/null; then
      echo "image_boot.sh: QEMU exited before '$1'" >&2
      return 1
    fi
    if [ "$(echo "$(elapsed) > $timeout" | bc)" = 1 ]; then
      echo "image_boot.sh: no '$1' after ${timeout}s" >&2
      return 1
    fi
    sleep 0.2
  done
}

wait_for "docker-up [0-9]"
docker_up=$(elapsed)
# A getty prompt may share the line ("login: docker-up 69.83").
guest=$(grep -ao "docker-up [0-9.]*" "$scratch/serial.log" | head -n1 | cut -d' ' -f2)
wait_for "^lct-report-end" || true
sed -n '/lct-report-begin/,/^lct-report-end/p' "$scratch/serial.log" | tr -d '\r' |
  grep -v 'lct-report-'
printf 'kernel: %s\n' "$(basename "$kernel")"
printf 'docker-up: %.1f s from QEMU start (guest uptime %s s)\n' "$docker_up" "$guest"
