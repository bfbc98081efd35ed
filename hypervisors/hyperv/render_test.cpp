#include "hypervisors/hyperv/render.hpp"

#include <catch2/catch.hpp>

#include "tests/support/golden.hpp"
#include "tests/support/labs.hpp"

namespace hy = labctl::hv::hyperv;
namespace model = labctl::model;
using labctl::testing::hyperv_lab;

namespace {

std::string must(const labctl::Result<std::string>& script) {
  INFO((script.ok() ? std::string() : script.error().message));
  REQUIRE(script.ok());
  return *script;
}

const std::string k_root(hy::k_default_root);
// labctl runs under WSL 2: local files reach the scripts as WSL's Windows paths.
const std::string k_wsl = "\\\\wsl.localhost\\Debian";
const std::string k_logs = k_wsl + "\\home\\teacher\\.local\\state\\labctl\\cd26\\logs\\";
// The lab uses the classroom registry (the default): its route through WSL's address.
const hy::RegistryRoute k_route{"10.255.255.1", "172.29.18.5"};

}  // namespace

TEST_CASE("Hyper-V scripts for a whole team's up", "[golden]") {
  const model::Lab lab = hyperv_lab();
  const model::Team& team = lab.teams.front();
  std::string all = must(hy::render_create_pool(k_root, lab.classroom));
  all += must(hy::render_upload_volume(k_root, lab.classroom, lab.base_volume,
                                       k_wsl + "\\var\\cache\\labctl\\debian-12-docker.vhdx"));
  for (const model::Network& net : team.networks) {
    const bool nat = net.kind == model::NetworkKind::nat;
    all += must(
        hy::render_create_network(lab, net, k_root, nat ? std::optional(k_route) : std::nullopt));
  }
  for (const model::Vm& vm : team.vms) {
    all += must(
        hy::render_create_overlay(k_root, lab.classroom, vm.disk_volume, lab.base_volume, vm.disk));
    all += must(
        hy::render_upload_volume(k_root, lab.classroom, vm.seed_volume,
                                 k_wsl + "\\var\\lib\\labctl\\cd26\\seeds\\" + vm.seed_volume));
  }
  for (const model::Vm& vm : team.vms) {
    all += must(hy::render_create_vm(lab, vm, k_root));
    all += must(hy::render_start_vm(vm.name, k_root, k_logs + vm.name + ".serial.log", k_route));
  }
  // What start-vm runs hidden, base64-encoded: here as text, for review and the parser.
  all += must(hy::render_console_capture(team.vms.front().name,
                                         k_logs + team.vms.front().name + ".serial.log"));
  labctl::testing::check_golden("hyperv/team-up.ps1", all);
}

TEST_CASE("Hyper-V scripts for a whole team's down", "[golden]") {
  const model::Lab lab = hyperv_lab();
  const model::Team& team = lab.teams.front();
  std::string all;
  for (const model::Vm& vm : team.vms) {
    all += must(hy::render_stop_vm(vm.name));
    all += must(hy::render_delete_vm(k_root, lab.classroom, vm.name));
    all += must(hy::render_delete_volume(k_root, lab.classroom, vm.disk_volume));
    all += must(hy::render_delete_volume(k_root, lab.classroom, vm.seed_volume));
  }
  for (const model::Network& net : team.networks) {
    all += must(hy::render_delete_network(lab.classroom, net.name));
  }
  all += must(hy::render_delete_volume(k_root, lab.classroom, lab.base_volume));
  all += must(hy::render_delete_pool(k_root, lab.classroom));
  labctl::testing::check_golden("hyperv/team-down.ps1", all);
}

TEST_CASE("Hyper-V query scripts", "[golden]") {
  std::string all = must(hy::render_inventory(k_root, "cd26"));
  all += must(hy::render_host_info());
  all += must(hy::render_host_networks());
  all += must(hy::render_vm_state("cd26-team1-vm1"));
  const labctl::hv::Tag tag{"cd26", "team1", "domain", "5f3a9c01", "0123456789abcdef"};
  all += must(hy::render_retag("cd26", labctl::hv::ObjectKind::domain, "cd26-team1-vm1", tag));
  all += must(hy::render_retag("cd26", labctl::hv::ObjectKind::network, "cd26-team1-lan",
                               {"cd26", "team1", "network", "04b3f5084915", "0123456789abcdef"}));
  labctl::testing::check_golden("hyperv/queries.ps1", all);
}

// The built image's EFI variant: a Generation 2 VM, Secure Boot off, the disk first: the
// same script as for any disk with its own EFI loader (pinned in hyperv/team-up.ps1).
TEST_CASE("Hyper-V boots the built image's EFI variant like an EFI disk", "[unit]") {
  model::Lab lab = hyperv_lab();
  const model::Vm& vm = lab.teams.front().vms.front();
  const std::string disk = must(hy::render_create_vm(lab, vm, k_root));
  lab.image.build = "debian-12";
  lab.image.boot = model::BootMode::efi;
  const std::string efi = must(hy::render_create_vm(lab, vm, k_root));
  CHECK(efi == disk);
  CHECK(efi.find("-Generation 2") != std::string::npos);
  CHECK(efi.find("Set-VMFirmware -VM $vm -EnableSecureBoot Off") != std::string::npos);
  CHECK(efi.find("-FirstBootDevice (Get-VMHardDiskDrive") != std::string::npos);
}

TEST_CASE("Hyper-V scripts for students' access: static mappings on the classroom's NetNat",
          "[golden]") {
  model::Lab lab = hyperv_lab();
  lab.identity = "0123456789abcdef0123456789abcdef";
  lab.access.enabled = true;
  lab.access.host = "lab-server.school.lan";
  lab.access.ssh = true;
  std::string all = must(hy::render_publish(lab, "team1", k_root));
  all += must(hy::render_unpublish(lab.classroom, "team1", k_root));
  labctl::testing::check_golden("hyperv/access.ps1", all);
  SECTION("a hostile team name is refused before any script") {
    CHECK_FALSE(hy::render_unpublish("cd26", "team1'; rm", k_root).ok());
  }
}
