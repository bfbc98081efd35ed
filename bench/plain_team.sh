#!/bin/bash
# The baseline for `labctl up`: what an instructor would script by hand with virt-install, on
# the same image labctl boots. It makes one NAT network, copies the base image, then per VM
# an overlay, a minimal NoCloud seed (no network-config: cloud-init's DHCP fallback; a user
# with a key; a runcmd that waits for `docker info`; the final message on the serial console)
# and a `virt-install --import` with direct kernel boot, all VMs started one after the other
# without waiting. It prints the seconds from its start until every VM's serial console shows
# the final message (cloud-init done, Docker answering) and the network has leased it an
# address. Removes all it made at the end.
#
#   bench/plain_team.sh --image DIR [--vms N] [--vcpus N] [--memory MIB] [--keep-logs DIR]
#
# DIR is what `labctl image build --json` names as "image": disk.qcow2, vmlinux or vmlinuz,
# initrd.img. Needs root, a running libvirtd (provision/bootstrap), xorriso; installs
# virt-install (Debian's virtinst) when it is missing. The last line of output is
# "plain-team: N VMs at docker up in S s".
set -euo pipefail

image=""
vms=4
vcpus=2
memory=2048
keep_logs=""
timeout=900
while [ $# -gt 0 ]; do
  case "$1" in
    --image) image=$2; shift 2 ;;
    --vms) vms=$2; shift 2 ;;
    --vcpus) vcpus=$2; shift 2 ;;
    --memory) memory=$2; shift 2 ;;
    --keep-logs) keep_logs=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    *) echo "plain_team.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$image" ] || { echo "plain_team.sh: --image DIR is required" >&2; exit 2; }
image=$(cd "$image" && pwd)
kernel=$image/vmlinux
[ -f "$kernel" ] || kernel=$image/vmlinuz

if ! command -v virt-install >/dev/null; then
  echo "plain_team.sh: installing virtinst" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends virtinst >/dev/null
fi

virsh_() { virsh -q -c qemu:///system "$@"; }
tag=pl$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
# libvirt's QEMU (user libvirt-qemu) must read the files: not under a 0700 /tmp directory.
work=/var/lib/libvirt/images/lct-$tag
net=lct-$tag
# A /24 in 10.213.0.0/16 that no route on this host uses.
subnet=""
for _ in $(seq 1 50); do
  candidate=10.213.$((RANDOM % 250 + 2))
  ip -4 route | grep -q "^$candidate\." || { subnet=$candidate; break; }
done
[ -n "$subnet" ] || { echo "plain_team.sh: no free 10.213.x.0/24" >&2; exit 1; }

cleanup() {
  for i in $(seq 1 "$vms"); do
    virsh_ destroy "$tag-vm$i" >/dev/null 2>&1 || true
    virsh_ undefine "$tag-vm$i" >/dev/null 2>&1 || true
  done
  virsh_ net-destroy "$net" >/dev/null 2>&1 || true
  virsh_ net-undefine "$net" >/dev/null 2>&1 || true
  # virt-install makes a storage pool of each disk's directory, named after it.
  virsh_ pool-destroy "lct-$tag" >/dev/null 2>&1 || true
  virsh_ pool-undefine "lct-$tag" >/dev/null 2>&1 || true
  if [ -n "$keep_logs" ] && [ -d "$work" ]; then
    mkdir -p "$keep_logs" && cp "$work"/*.serial.log "$keep_logs"/ 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ssh-keygen -q -t ed25519 -N '' -C plain-team -f "/tmp/lct-$tag.key"
pubkey=$(cat "/tmp/lct-$tag.key.pub")
rm -f "/tmp/lct-$tag.key" "/tmp/lct-$tag.key.pub"

start=$(date +%s.%N)
mkdir -p "$work"
chmod 0755 "$work"
cat >"$work/net.xml" <<XML
<network>
  <name>$net</name>
  <forward mode='nat'/>
  <bridge name='$tag' stp='off'/>
  <ip address='$subnet.1' netmask='255.255.255.0'>
    <dhcp><range start='$subnet.10' end='$subnet.99'/></dhcp>
  </ip>
</network>
XML
virsh_ net-define "$work/net.xml" >/dev/null
virsh_ net-start "$net" >/dev/null
cp "$image/disk.qcow2" "$work/base.qcow2"
cp "$kernel" "$work/kernel"
cp "$image/initrd.img" "$work/initrd.img"

declare -A mac=()
for i in $(seq 1 "$vms"); do
  name=$tag-vm$i
  mkdir "$work/seed$i"
  printf 'instance-id: %s\nlocal-hostname: vm%s\n' "$name" "$i" >"$work/seed$i/meta-data"
  cat >"$work/seed$i/user-data" <<USER
#cloud-config
users:
  - name: student
    sudo: "ALL=(ALL) NOPASSWD:ALL"
    shell: /bin/bash
    ssh_authorized_keys: ["$pubkey"]
runcmd:
  - [sh, -c, 'until docker info >/dev/null 2>&1; do sleep 1; done']
final_message: "plain-team: $name docker up after \$UPTIME seconds"
USER
  xorriso -as mkisofs -quiet -V cidata -J -R -o "$work/seed$i.iso" "$work/seed$i" 2>/dev/null
  qemu-img create -q -f qcow2 -b "$work/base.qcow2" -F qcow2 "$work/vm$i.qcow2" 4G
  virt-install --connect qemu:///system --name "$name" --virt-type qemu --machine pc \
    --memory "$memory" --vcpus "$vcpus" --osinfo detect=on,require=off --import \
    --boot "kernel=$work/kernel,initrd=$work/initrd.img,kernel_args=root=/dev/vda rw console=ttyS0" \
    --disk "path=$work/vm$i.qcow2,format=qcow2,bus=virtio" \
    --disk "path=$work/seed$i.iso,device=cdrom,bus=ide" \
    --network "network=$net,model=virtio" \
    --serial "pty,log.file=$work/vm$i.serial.log" \
    --graphics none --noautoconsole --quiet
  mac[$i]=$(virsh_ domiflist "$name" | awk 'NR == 1 {print $5}')
done

elapsed() { echo "$(date +%s.%N) - $start" | bc; }
declare -A up=()
while [ "${#up[@]}" -lt "$vms" ]; do
  for i in $(seq 1 "$vms"); do
    [ -z "${up[$i]:-}" ] || continue
    # Docker up (the final message) and an address the host can reach (a DHCP lease):
    # what `labctl up` guarantees too.
    if grep -aq "plain-team: $tag-vm$i docker up" "$work/vm$i.serial.log" 2>/dev/null &&
      virsh_ net-dhcp-leases "$net" | grep -qi "${mac[$i]} "; then
      up[$i]=$(elapsed)
      printf 'plain-team: vm%s at docker up at %.1f s\n' "$i" "${up[$i]}"
    fi
  done
  if [ "$(echo "$(elapsed) > $timeout" | bc)" = 1 ]; then
    echo "plain_team.sh: ${#up[@]} of $vms VMs at docker up after ${timeout}s" >&2
    exit 1
  fi
  sleep 0.5
done
printf 'plain-team: %s VMs at docker up in %.1f s\n' "$vms" "$(elapsed)"
