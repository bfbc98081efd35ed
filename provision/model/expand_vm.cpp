// One team's copy of a template VM: sizes (override -> template -> defaults), NICs with
// deterministic MACs and addresses, Squash TM instances, and the spec hash.

#include <fmt/format.h>

#include "provision/model/addressing.hpp"
#include "provision/model/instance_rules.hpp"
#include "provision/model/names.hpp"
#include "provision/model/size.hpp"
#include "provision/model/spec.hpp"

namespace labctl::model {

namespace {

constexpr Bytes k_default_disk = 10 * k_gib;

const VmOverride* find_override(const LabSpec& spec, const std::string& team,
                                const std::string& vm) {
  for (const TeamOverride& team_override : spec.overrides) {
    if (team_override.team != team) {
      continue;
    }
    for (const VmOverride& vm_override : team_override.vms) {
      if (vm_override.vm == vm) {
        return &vm_override;
      }
    }
  }
  return nullptr;
}

template <typename T>
T pick(const std::optional<T>& first, const std::optional<T>& second, const std::optional<T>& third,
       T fallback) {
  return first ? *first : second ? *second : third ? *third : fallback;
}

std::vector<Nic> expand_nics(const Lab& lab, const Team& team, const VmSpec& vm_spec, int index) {
  std::vector<Nic> nics;
  bool routed = false;
  for (const std::string& key : vm_spec.networks) {
    const Network* net = nullptr;
    for (const Network& candidate : team.networks) {
      net = candidate.key == key ? &candidate : net;
    }
    if (net == nullptr) {
      continue;  // already reported by the reader
    }
    Nic nic;
    nic.network = net->name;
    nic.key = key;
    nic.mac = mac_address(lab.classroom, team.index, index, static_cast<int>(nics.size()));
    if (net->subnet) {
      nic.ip = net->subnet->address(10 + static_cast<std::uint32_t>(index));
      nic.prefix = net->subnet->prefix;
    }
    nic.dhcp = net->kind == NetworkKind::bridge && !net->subnet;
    if (net->kind == NetworkKind::nat && !routed && !net->gateway.empty()) {
      nic.gateway = net->gateway;  // one default route: the first NAT NIC's
      nic.dns = {net->gateway};
      routed = true;
    }
    nics.push_back(nic);
  }
  return nics;
}

void check_stack(Reader& reader, const Vm& vm, const Loc& loc) {
  if (!stack_fits(vm, vm.instances)) {
    reader.error(loc,
                 fmt::format("VM {}: its Squash TM stack needs more than its {}: {} (lower "
                             "squashtm.memory or an instance's memory, use db: h2, or move "
                             "an instance to another VM)",
                             vm.name, format_size(vm.memory), explain_footprint(vm.instances)));
  }
}

}  // namespace

Vm expand_vm(Reader& reader, const LabSpec& spec, const Team& team, const VmSpec& vm_spec,
             int index) {
  const Lab& lab = spec.lab;
  const VmOverride* over = find_override(spec, team.name, vm_spec.key);
  const VmShape none;
  const VmShape& patch = over != nullptr ? over->shape : none;
  Vm vm;
  vm.key = vm_spec.key;
  vm.name = fmt::format("{}-{}-{}", lab.classroom, team.name, vm_spec.key);
  vm.team = team.name;
  vm.hostname = fmt::format("{}-{}", team.name, vm_spec.key);
  vm.index = index;
  vm.memory = pick(patch.memory, vm_spec.shape.memory, spec.defaults.memory, lab.memory_cap);
  vm.vcpus = pick(patch.vcpus, vm_spec.shape.vcpus, spec.defaults.vcpus, 1);
  vm.disk = pick(patch.disk, vm_spec.shape.disk, spec.defaults.disk, k_default_disk);
  vm.disk_volume = vm.name + ".qcow2";
  vm.seed_volume = vm.name + "-seed.iso";
  vm.nics = expand_nics(lab, team, vm_spec, index);
  vm.instances = patch.instances ? *patch.instances
                                 : vm_spec.shape.instances.value_or(std::vector<Instance>{});
  if (vm.hostname.size() > k_max_hostname) {
    reader.error(vm_spec.loc, fmt::format("host name '{}' is {} characters; host names allow {}",
                                          vm.hostname, vm.hostname.size(), k_max_hostname));
  }
  check_stack(reader, vm, over != nullptr ? over->loc : vm_spec.loc);
  vm.spec_hash = spec_hash(lab, vm);
  return vm;
}

std::string spec_hash(const Lab& lab, const Vm& vm) {
  std::string text = fmt::format(
      "memory={};vcpus={};disk={};image={};boot={};cmdline={};"
      "hostname={}",
      vm.memory, vm.vcpus, vm.disk, lab.image.name, to_string(lab.image.boot), lab.image.cmdline,
      vm.hostname);
  for (const Nic& nic : vm.nics) {
    text += fmt::format(";nic={},{},{}", nic.network, nic.mac, nic.ip);
    text += nic.dhcp ? ",dhcp" : "";  // only when set: hashes of other VMs stay as they were
  }
  return fmt::format("{:012x}", fnv1a64(text) & 0xffffffffffffULL);
}

}  // namespace labctl::model
