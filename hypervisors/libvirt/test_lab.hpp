#pragma once

// A model::Lab built by hand for the libvirt backend's tests (independent of the YAML loader):
// `teams` teams, each with a NAT network "lan" and an isolated network "back", and vm1, vm2
// with one NIC on each; optionally (external = true) team networks of kind bridge ("ext", on
// the host bridge br0) and ovs ("sw", on the OVS bridge ovsbr0), with vm1 attached to both.

#include <fmt/format.h>

#include "provision/model/lab.hpp"

namespace labctl::hv::libvirt::testing {

struct TestLabOptions {
  std::string classroom = "cd26";
  int teams = 2;
  bool external = false;
  model::BootMode boot = model::BootMode::kernel;
};

inline model::Network test_network(const std::string& classroom, int team, const char* key,
                                   model::NetworkKind kind) {
  model::Network net;
  net.key = key;
  net.team = fmt::format("team{}", team);
  net.name = fmt::format("{}-team{}-{}", classroom, team, key);
  net.kind = kind;
  net.bridge = fmt::format("lc{}t{}{}", classroom, team, key);
  if (kind == model::NetworkKind::nat || kind == model::NetworkKind::isolated) {
    const std::uint32_t second = kind == model::NetworkKind::nat ? 61 : 62;
    net.subnet = model::Subnet{(10U << 24) | (second << 16) | (std::uint32_t(team) << 8), 24};
  }
  if (kind == model::NetworkKind::nat) {
    net.gateway = net.subnet->address(1);
    net.dhcp_start = net.subnet->address(100);
    net.dhcp_end = net.subnet->address(199);
  }
  if (kind == model::NetworkKind::bridge) {
    net.bridge = "br0";
  }
  if (kind == model::NetworkKind::ovs) {
    net.bridge = "ovsbr0";
    net.vlan = 100 + team;
  }
  return net;
}

inline model::Nic test_nic(const model::Network& net, int team, int vm, int slot) {
  model::Nic nic;
  nic.network = net.name;
  nic.key = net.key;
  nic.mac = fmt::format("02:c4:1e:{:02x}:{:02x}:{:02x}", team, vm, slot);
  if (net.subnet) {
    nic.ip = net.subnet->address(10 + std::uint32_t(vm));
    nic.prefix = net.subnet->prefix;
  }
  if (net.kind == model::NetworkKind::nat) {
    nic.gateway = net.gateway;
    nic.dns = {net.gateway};
  }
  return nic;
}

inline model::Vm test_vm(const model::Lab& lab, const model::Team& team, int index) {
  model::Vm vm;
  vm.key = fmt::format("vm{}", index);
  vm.team = team.name;
  vm.name = fmt::format("{}-{}-{}", lab.classroom, team.name, vm.key);
  vm.hostname = fmt::format("{}-{}", team.name, vm.key);
  vm.index = index;
  vm.memory = lab.memory_cap;
  vm.vcpus = 2;
  vm.disk = 8 * model::k_gib;
  vm.disk_volume = vm.name + ".qcow2";
  vm.seed_volume = vm.name + "-seed.iso";
  for (std::size_t slot = 0; slot < team.networks.size(); ++slot) {
    const model::Network& net = team.networks[slot];
    const bool external =
        net.kind == model::NetworkKind::bridge || net.kind == model::NetworkKind::ovs;
    if (!external || index == 1) {
      vm.nics.push_back(test_nic(net, team.index, index, int(slot)));
    }
  }
  vm.spec_hash = fmt::format("spec-{}-{}", team.name, vm.key);
  return vm;
}

inline model::Lab make_test_lab(const TestLabOptions& options = {}) {
  model::Lab lab;
  lab.file = "test-lab.yaml";
  lab.classroom = options.classroom;
  lab.title = "libvirt backend test lab";
  lab.image.name = "debian-12-docker";
  lab.image.boot = options.boot;
  lab.pool = lab.classroom + "-pool";
  lab.base_volume = lab.classroom + "-base.qcow2";
  lab.base_kernel = lab.classroom + "-base-vmlinuz";
  lab.base_initrd = lab.classroom + "-base-initrd.img";
  for (int t = 1; t <= options.teams; ++t) {
    model::Team team;
    team.name = fmt::format("team{}", t);
    team.index = t;
    team.networks.push_back(test_network(lab.classroom, t, "lan", model::NetworkKind::nat));
    team.networks.push_back(test_network(lab.classroom, t, "back", model::NetworkKind::isolated));
    if (options.external) {
      team.networks.push_back(test_network(lab.classroom, t, "ext", model::NetworkKind::bridge));
      team.networks.push_back(test_network(lab.classroom, t, "sw", model::NetworkKind::ovs));
    }
    for (int v = 1; v <= 2; ++v) {
      team.vms.push_back(test_vm(lab, team, v));
    }
    lab.teams.push_back(std::move(team));
  }
  return lab;
}

}  // namespace labctl::hv::libvirt::testing
