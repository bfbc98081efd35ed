#pragma once

// A classroom built by hand for the Hyper-V tests (the lab-file loader is written in
// parallel): classroom cd26 with the pool 10.61.0.0/16; team<t> has a nat network "lan"
// (10.61.<2t-1>.0/24) and an isolated network "lab" (10.61.<2t>.0/24), two VMs of 2 GiB with
// one NIC on each network. Names, subnets and MACs follow the model's conventions (lab.hpp).

#include <string>

#include "provision/model/lab.hpp"

namespace labctl::hv::hyperv::testing {

inline std::string test_team_name(int team) {
  return "team" + std::to_string(team);
}

inline model::Network test_network(const std::string& key, model::NetworkKind kind,
                                   std::uint32_t third_octet, int team = 1) {
  model::Network net;
  net.key = key;
  net.team = test_team_name(team);
  net.name = "cd26-" + net.team + "-" + key;
  net.kind = kind;
  net.bridge = "lct-t" + std::to_string(team) + "-" + key;
  net.subnet = model::Subnet{(10U << 24) | (61U << 16) | (third_octet << 8), 24};
  if (kind == model::NetworkKind::nat) {
    net.gateway = net.subnet->address(1);
  }
  return net;
}

inline model::Nic test_nic(const model::Network& net, int vm, int nic) {
  const std::string team = net.team.substr(4);
  const std::string mac =
      "02:c4:1e:0" + team + ":0" + std::to_string(vm) + ":0" + std::to_string(nic);
  const std::string gateway = net.gateway;
  return {
      net.name, net.key,
      mac,      net.subnet->address(10 + static_cast<std::uint32_t>(vm)),
      false,    24,
      gateway,  gateway.empty() ? std::vector<std::string>{} : std::vector<std::string>{gateway}};
}

inline model::Vm test_vm(int index, const model::Team& team) {
  const std::string key = "vm" + std::to_string(index);
  model::Vm vm;
  vm.key = key;
  vm.name = "cd26-" + team.name + "-" + key;
  vm.team = team.name;
  vm.hostname = team.name + "-" + key;
  vm.index = index;
  vm.memory = 2 * model::k_gib;
  vm.vcpus = 2;
  vm.disk = 20 * model::k_gib;
  vm.disk_volume = vm.name + ".qcow2";
  vm.seed_volume = vm.name + "-seed.iso";
  for (std::size_t nic = 0; nic < team.networks.size(); ++nic) {
    vm.nics.push_back(test_nic(team.networks[nic], index, static_cast<int>(nic)));
  }
  vm.instances.push_back({"main", "6.0.0", 8081, model::DbKind::postgresql,
                          model::EnvScheme::automatic, "squashtest/squash-tm",
                          model::k_instance_memory});
  vm.spec_hash = "5f3a9c" + std::to_string(team.index - 1) + std::to_string(index);
  return vm;
}

inline model::Team test_team(int index) {
  model::Team team;
  team.name = test_team_name(index);
  team.index = index;
  const auto lan = static_cast<std::uint32_t>(2 * index - 1);
  team.networks.push_back(test_network("lan", model::NetworkKind::nat, lan, index));
  team.networks.push_back(test_network("lab", model::NetworkKind::isolated, lan + 1, index));
  team.vms.push_back(test_vm(1, team));
  team.vms.push_back(test_vm(2, team));
  return team;
}

inline model::Lab test_lab(int teams = 1) {
  model::Lab lab;
  lab.file = "labs/cd26.yaml";
  lab.classroom = "cd26";
  lab.identity = "0123456789abcdef0123456789abcdef";
  lab.title = "Test classroom";
  lab.hosts.push_back({"hyperv://", 4 * model::k_gib, {}});
  lab.image.name = "debian-12-docker";
  lab.image.boot = model::BootMode::disk;  // Hyper-V boots the disk itself
  lab.subnet_pool = model::Subnet{(10U << 24) | (61U << 16), 16};
  lab.pool = "cd26-pool";
  lab.base_volume = "cd26-base.qcow2";
  for (int team = 1; team <= teams; ++team) {
    lab.teams.push_back(test_team(team));
  }
  return lab;
}

}  // namespace labctl::hv::hyperv::testing
