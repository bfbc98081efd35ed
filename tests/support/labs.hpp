#pragma once

// Lab fixtures for the tests, each an inline lab file read by the real loader (labs.cpp): what a
// test gets is what model::parse_lab and the expansion make of it (names, bridges, subnets, MACs,
// addresses, ports and spec hashes), never a copy of their rules.

#include <string>
#include <vector>

#include "cloud-init/render.hpp"
#include "provision/model/lab.hpp"

namespace labctl::testing {

// The `image:` line of a lab file: the base built by the debian-12 recipe with Docker baked
// in, or for a disk boot (which a built image has not) one downloaded by that name.
std::string image_yaml(model::BootMode boot);

// The lab of an inline lab file; a file the loader refuses aborts the test with its message.
model::Lab lab_from_yaml(const std::string& text, const std::string& file = "lab.yaml");

// `teams` teams (team1, ...), each with a nat "lan" and an isolated "lab" network from the
// pool 10.99.0.0/16, and `vms` VMs (vm1, ...) of 2 GiB on both, each running Squash TM 6.0.0.
model::Lab small_lab(const std::string& classroom = "lct", int teams = 2, int vms = 2);

// The libvirt backend's lab: `teams` teams, each with a nat "lan" (10.61.<team>.0/24) and an
// isolated "back" (10.62.<team>.0/24), vm1 and vm2 (2 vCPUs, 8 GiB disks) on both; with
// `external`, also a bridge network "ext" (host bridge br0) and an ovs one "sw" (ovsbr0,
// VLAN 100 + team) that only vm1 joins.
struct LibvirtLabOptions {
  std::string classroom = "cd26";
  int teams = 2;
  bool external = false;
  model::BootMode boot = model::BootMode::kernel;
};

model::Lab libvirt_lab(const LibvirtLabOptions& options = {});

// The Hyper-V backend's lab: classroom cd26 on one Hyper-V host (hyperv://hv1), the
// pool 10.61.0.0/16; team<t> has a nat "lan" and an isolated "lab" (bridges lct-t<t>-lan,
// lct-t<t>-lab), and vm1, vm2 (2 GiB, 2 vCPUs, 20 GiB disks) on both, each running Squash TM 6.0.0.
model::Lab hyperv_lab(int teams = 1);

// The cloud-init renderers' lab: classroom cd26, team1 with a nat "lan" (10.61.1.0/24) and an
// isolated "back" (10.62.1.0/24), vm1 on both; Docker from `source` (baked into the image
// when preinstalled).
model::Lab seed_lab(model::DockerSource source);

// Fixed, fake key material for seed_lab's vm1: golden files must not change from run to run.
cloudinit::SeedInputs seed_inputs();

// A small lab file for tests that drive the executable without booting anything: one NAT
// network, one 1GiB VM per team with one Squash TM instance of 512MiB (what a 1GiB VM holds
// with a database: 384MiB + 512MiB + 128MiB); `teams` is a YAML list.
std::string small_lab_text(const std::string& classroom, const std::string& teams);

// One of the repository's example lab files (labs/NAME), as the loader reads it; a refusal
// fails the test with the loader's message.
model::Lab example_lab(const std::string& name);

// Every team of the lab, as the host checks take them.
std::vector<const model::Team*> teams_of(const model::Lab& lab);

}  // namespace labctl::testing
