#pragma once

// A small classroom built by hand for the cloud-init tests (independent of the YAML loader):
// classroom cd26, team1 with a NAT "lan" and an isolated "back" network, vm1 on both.

#include "cloud-init/render.hpp"
#include "provision/model/lab.hpp"

namespace labctl::cloudinit::testing {

inline model::Nic test_nic(const std::string& key, const std::string& mac, const std::string& ip,
                           const std::string& gateway) {
  model::Nic nic;
  nic.network = "cd26-team1-" + key;
  nic.key = key;
  nic.mac = mac;
  nic.ip = ip;
  nic.prefix = 24;
  nic.gateway = gateway;
  if (!gateway.empty()) {
    nic.dns = {gateway};
  }
  return nic;
}

inline model::Vm test_vm() {
  model::Vm vm;
  vm.key = "vm1";
  vm.name = "cd26-team1-vm1";
  vm.team = "team1";
  vm.hostname = "team1-vm1";
  vm.index = 1;
  vm.memory = 2 * model::k_gib;
  vm.nics = {test_nic("lan", "02:c4:1e:01:01:00", "10.61.1.11", "10.61.1.1"),
             test_nic("back", "02:c4:1e:01:01:01", "10.62.1.11", "")};
  vm.spec_hash = "3f2a9c1d";
  return vm;
}

inline model::Lab test_lab(model::DockerSource source) {
  model::Lab lab;
  lab.classroom = "cd26";
  lab.admin_user = "student";
  lab.docker.source = source;
  model::Team team;
  team.name = "team1";
  team.index = 1;
  team.vms = {test_vm()};
  lab.teams = {team};
  return lab;
}

// Fixed, fake key material: golden files must not change from run to run.
inline SeedInputs test_inputs() {
  SeedInputs in;
  in.admin_public_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAdminAdminAdmin labctl-cd26";
  in.team_public_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAITeamTeamTeam labctl-cd26-team1";
  in.host_private_key =
      "-----BEGIN OPENSSH PRIVATE KEY-----\n"
      "b3BlbnNzaC1rZXktdjEAAAAAHostKeyForTestsOnly\n"
      "-----END OPENSSH PRIVATE KEY-----\n";
  in.host_public_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostHostHost cd26-team1-vm1";
  return in;
}

}  // namespace labctl::cloudinit::testing
