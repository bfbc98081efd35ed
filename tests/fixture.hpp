#pragma once

// A small expanded lab built by hand, for tests of modules that read model::Lab.

#include <string>
#include <vector>

#include <fmt/format.h>

#include "provision/model/lab.hpp"
#include "provision/model/names.hpp"

namespace labctl::testing {

inline model::Lab small_lab(const std::string& classroom = "lct", int teams = 2, int vms = 2) {
  using namespace model;
  Lab lab;
  lab.file = "fixture.yaml";
  lab.classroom = classroom;
  lab.pool = classroom + "-pool";
  lab.base_volume = classroom + "-base.qcow2";
  lab.base_kernel = classroom + "-base-vmlinuz";
  lab.base_initrd = classroom + "-base-initrd.img";
  lab.image.name = "debian-12-docker";
  lab.image.build = "debian-12";
  for (int t = 1; t <= teams; ++t) {
    Team team;
    team.name = fmt::format("team{}", t);
    team.index = t;
    for (auto [key, kind, n] :
         {std::tuple{"lan", NetworkKind::nat, 0}, std::tuple{"lab", NetworkKind::isolated, 1}}) {
      Network net;
      net.key = key;
      net.name = fmt::format("{}-{}-{}", classroom, team.name, key);
      net.team = team.name;
      net.kind = kind;
      net.bridge = net.name;
      net.subnet =
          Subnet{(10U << 24) | (99U << 16) | (static_cast<unsigned>((t - 1) * 2 + n) << 8), 24};
      if (kind == NetworkKind::nat) {
        net.gateway = net.subnet->address(1);
        net.dhcp_start = net.subnet->address(100);
        net.dhcp_end = net.subnet->address(199);
      }
      team.networks.push_back(net);
    }
    for (int v = 1; v <= vms; ++v) {
      Vm vm;
      vm.key = fmt::format("vm{}", v);
      vm.team = team.name;
      vm.index = v;
      vm.name = fmt::format("{}-{}-{}", classroom, team.name, vm.key);
      vm.hostname = fmt::format("{}-{}", team.name, vm.key);
      vm.memory = 2 * k_gib;
      vm.disk = 10 * k_gib;
      vm.disk_volume = vm.name + ".qcow2";
      vm.seed_volume = vm.name + "-seed.iso";
      for (std::size_t n = 0; n < team.networks.size(); ++n) {
        const Network& net = team.networks[n];
        Nic nic;
        nic.network = net.name;
        nic.key = net.key;
        nic.mac = fmt::format("02:c4:1e:{:02x}:{:02x}:{:02x}", t, v, n);
        nic.ip = net.subnet->address(10 + v);
        nic.gateway = n == 0 ? net.gateway : "";
        if (n == 0) {
          nic.dns = {net.gateway};
        }
        vm.nics.push_back(nic);
      }
      Instance instance;
      instance.name = "main";
      instance.version = "6.0.0";
      instance.port = 8081;
      instance.image = lab.squash_image;
      vm.instances.push_back(instance);
      vm.spec_hash = fmt::format("{:012x}", fnv1a64(vm.name + "|2GiB|1") & 0xffffffffffffULL);
      team.vms.push_back(vm);
    }
    lab.teams.push_back(team);
  }
  return lab;
}

// Every team of the lab, as the host checks take them.
inline std::vector<const model::Team*> teams_of(const model::Lab& lab) {
  std::vector<const model::Team*> teams;
  for (const model::Team& team : lab.teams) {
    teams.push_back(&team);
  }
  return teams;
}

}  // namespace labctl::testing
