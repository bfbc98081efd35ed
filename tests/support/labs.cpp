#include "tests/support/labs.hpp"

#include <stdexcept>

#include <fmt/format.h>

#include "provision/model/loader.hpp"
#include "tests/support/golden.hpp"

namespace labctl::testing {

std::string image_yaml(model::BootMode boot) {
  if (boot == model::BootMode::disk) {
    return "image: { url: \"https://images.example.org/debian-12-docker.qcow2\",\n"
           "         checksums: \"https://images.example.org/SHA256SUMS\", boot: disk }";
  }
  return fmt::format("image: {{ build: debian-12, with: [docker], boot: {} }}",
                     model::to_string(boot));
}

model::Lab lab_from_yaml(const std::string& text, const std::string& file) {
  auto lab = model::parse_lab(text, file);
  if (!lab.ok()) {
    throw std::runtime_error("the fixture's lab file is refused: " + lab.error().message);
  }
  return *lab;
}

model::Lab small_lab(const std::string& classroom, int teams, int vms) {
  std::string text = fmt::format(R"(classroom: {}
image: {{ build: debian-12, with: [docker] }}
subnets: 10.99.0.0/16
defaults: {{ memory: 2GiB, disk: 10GiB }}
teams: {{ count: {} }}
template:
  networks:
    lan: {{ kind: nat }}
    lab: {{ kind: isolated }}
  vms:
)",
                                 classroom, teams);
  for (int vm = 1; vm <= vms; ++vm) {
    text += fmt::format("    vm{}:\n      instances: [{{ name: main, version: 6.0.0 }}]\n", vm);
  }
  return lab_from_yaml(text, "fixture.yaml");
}

model::Lab libvirt_lab(const LibvirtLabOptions& options) {
  const std::string bridge = R"(bridge_name: "lc{classroom}t{team_index}{net}")";
  std::string text =
      fmt::format(R"(classroom: {}
title: libvirt backend test lab
{}
defaults: {{ vcpus: 2, disk: 8GiB }}
teams: {{ count: {} }}
template:
  networks:
    lan: {{ kind: nat, subnet: "10.61.{{team_index}}.0/24", {} }}
    back: {{ kind: isolated, subnet: "10.62.{{team_index}}.0/24", {} }}
)",
                  options.classroom, image_yaml(options.boot), options.teams, bridge, bridge);
  if (options.external) {
    text +=
        "    ext: { kind: bridge, bridge: br0 }\n"
        "    sw: { kind: ovs, bridge: ovsbr0, vlan: 100 }\n";
  }
  text += "  vms:\n    vm1: {}\n";
  text += options.external ? "    vm2: { networks: [lan, back] }\n" : "    vm2: {}\n";
  return lab_from_yaml(text, "test-lab.yaml");
}

model::Lab hyperv_lab(int teams) {
  model::Lab lab = lab_from_yaml(fmt::format(R"(classroom: cd26
title: Test classroom
hosts:
  - {{ uri: "hyperv://hv1", reserve: 4GiB }}
{}
subnets: 10.61.0.0/16
defaults: {{ memory: 2GiB, vcpus: 2, disk: 20GiB }}
teams: {{ count: {} }}
template:
  networks:
    lan: {{ kind: nat, bridge_name: "lct-t{{team_index}}-{{net}}" }}
    lab: {{ kind: isolated, bridge_name: "lct-t{{team_index}}-{{net}}" }}
  vms:
    vm1:
      instances: [{{ name: main, version: 6.0.0 }}]
    vm2:
      instances: [{{ name: main, version: 6.0.0 }}]
)",
                                             image_yaml(model::BootMode::disk), teams),
                                 "labs/cd26.yaml");
  lab.identity = "0123456789abcdef0123456789abcdef";  // not from the file: the state directory's
  return lab;
}

model::Lab seed_lab(model::DockerSource source) {
  const bool baked = source == model::DockerSource::preinstalled;
  return lab_from_yaml(fmt::format(R"(classroom: cd26
image: {{ build: debian-12{} }}
docker: {{ source: {} }}
teams: {{ count: 1 }}
template:
  networks:
    lan: {{ kind: nat, subnet: "10.61.{{team_index}}.0/24" }}
    back: {{ kind: isolated, subnet: "10.62.{{team_index}}.0/24" }}
  vms:
    vm1: {{}}
)",
                                   baked ? ", with: [docker]" : "", model::to_string(source)));
}

cloudinit::SeedInputs seed_inputs() {
  cloudinit::SeedInputs in;
  in.admin_public_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAdminAdminAdmin labctl-cd26";
  in.team_public_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAITeamTeamTeam labctl-cd26-team1";
  in.host_private_key =
      "-----BEGIN OPENSSH PRIVATE KEY-----\n"
      "b3BlbnNzaC1rZXktdjEAAAAAHostKeyForTestsOnly\n"
      "-----END OPENSSH PRIVATE KEY-----\n";
  in.host_public_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostHostHost cd26-team1-vm1";
  return in;
}

std::string small_lab_text(const std::string& classroom, const std::string& teams) {
  return fmt::format(R"(classroom: {}
image: {{ build: debian-12, with: [docker], boot: efi }}
defaults: {{ memory: 1GiB, disk: 2GiB }}
teams: {{ names: {} }}
template:
  networks:
    lan: {{ kind: nat }}
  vms:
    vm1:
      instances:
        - {{ name: main, version: 6.0.0 }}
squashtm: {{ memory: 512MiB }}
)",
                     classroom, teams);
}

std::vector<const model::Team*> teams_of(const model::Lab& lab) {
  std::vector<const model::Team*> teams;
  for (const model::Team& team : lab.teams) {
    teams.push_back(&team);
  }
  return teams;
}

model::Lab example_lab(const std::string& name) {
  auto lab = model::load_lab((source_dir() / "labs" / name).string());
  if (!lab) {
    throw std::runtime_error("labs/" + name + " is refused: " + lab.error().message);
  }
  return std::move(*lab);
}

}  // namespace labctl::testing
