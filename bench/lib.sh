# Shared by the bench scripts (sourced): the lab file of a one-team bench classroom.
#
#   bench_lab CLASSROOM TEAM VMS VCPUS NETWORKS VM_BODY [TOP_LEVEL_LINE...] >lab.yaml
#
# NETWORKS: "lan" (NAT) and optionally "lab" (isolated), e.g. "lan lab"; VM_BODY: each VM's
# mapping, e.g. "{}"; BENCH_IMAGE replaces the image mapping (default: the built Debian 12
# image with Docker). VMs are vm1..vmVMS, 2 GiB each.
bench_lab() {
  local classroom=$1 team=$2 vms=$3 vcpus=$4 networks=$5 body=$6
  shift 6
  echo "classroom: $classroom"
  local image="{ build: debian-12, with: [docker] }"
  echo "image: ${BENCH_IMAGE:-$image}"
  echo "defaults: { memory: 2GiB, vcpus: $vcpus, disk: 4GiB }"
  local line net
  for line in "$@"; do
    echo "$line"
  done
  echo "teams: { names: [$team] }"
  echo "template:"
  echo "  networks:"
  for net in $networks; do
    local kind=isolated
    [ "$net" = lan ] && kind=nat
    echo "    $net: { kind: $kind, bridge_name: \"{classroom}{team_index}{net}\" }"
  done
  echo "  vms:"
  for i in $(seq 1 "$vms"); do
    echo "    vm$i: $body"
  done
}
