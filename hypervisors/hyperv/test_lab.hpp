#pragma once

// A classroom built by hand for the Hyper-V tests (the lab-file loader is written in
// parallel): classroom cd26, team1 with a nat network "lan" and an isolated network "lab",
// two VMs of 2 GiB with one NIC on each network. Names, subnets and MACs follow the
// model's conventions (lab.hpp).

#include <string>

#include "provision/model/lab.hpp"

namespace labctl::hv::hyperv::testing {

inline model::Network test_network(const std::string& key, model::NetworkKind kind,
                                   std::uint32_t third_octet) {
  model::Network net;
  net.key = key;
  net.name = "cd26-team1-" + key;
  net.team = "team1";
  net.kind = kind;
  net.bridge = "lct-t1-" + key;
  net.subnet = model::Subnet{(10U << 24) | (61U << 16) | (third_octet << 8), 24};
  if (kind == model::NetworkKind::nat) {
    net.gateway = net.subnet->address(1);
  }
  return net;
}

inline model::Vm test_vm(int index) {
  const std::string key = "vm" + std::to_string(index);
  model::Vm vm;
  vm.key = key;
  vm.name = "cd26-team1-" + key;
  vm.team = "team1";
  vm.hostname = "team1-" + key;
  vm.index = index;
  vm.memory = 2 * model::k_gib;
  vm.vcpus = 2;
  vm.disk = 20 * model::k_gib;
  vm.disk_volume = vm.name + ".qcow2";
  vm.seed_volume = vm.name + "-seed.iso";
  const std::string host = std::to_string(10 + index);
  vm.nics.push_back({"cd26-team1-lan",
                     "lan",
                     "02:c4:1e:01:0" + std::to_string(index) + ":00",
                     "10.61.1." + host,
                     24,
                     "10.61.1.1",
                     {"10.61.1.1"}});
  vm.nics.push_back({"cd26-team1-lab",
                     "lab",
                     "02:c4:1e:01:0" + std::to_string(index) + ":01",
                     "10.61.2." + host,
                     24,
                     "",
                     {}});
  vm.instances.push_back({"main", "6.0.0", 8081, model::DbKind::postgresql,
                          model::EnvScheme::automatic, "squashtest/squash-tm",
                          model::k_instance_memory});
  vm.spec_hash = "5f3a9c0" + std::to_string(index);
  return vm;
}

inline model::Lab test_lab() {
  model::Lab lab;
  lab.file = "labs/cd26.yaml";
  lab.classroom = "cd26";
  lab.title = "Test classroom";
  lab.hosts.push_back({"hyperv://", 4 * model::k_gib, {}});
  lab.image.name = "debian-12-docker";
  lab.image.boot = model::BootMode::disk;  // Hyper-V boots the disk itself
  lab.pool = "cd26-pool";
  lab.base_volume = "cd26-base.qcow2";
  model::Team team;
  team.name = "team1";
  team.index = 1;
  team.networks.push_back(test_network("lan", model::NetworkKind::nat, 1));
  team.networks.push_back(test_network("lab", model::NetworkKind::isolated, 2));
  team.vms.push_back(test_vm(1));
  team.vms.push_back(test_vm(2));
  lab.teams.push_back(team);
  return lab;
}

}  // namespace labctl::hv::hyperv::testing
