#include "hypervisors/hyperv/backend.hpp"

#include <algorithm>
#include <fstream>
#include <functional>
#include <map>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "hypervisors/hyperv/render.hpp"
#include "provision/plan/plan.hpp"
#include "provision/ready/console.hpp"
#include "tests/support/fake_powershell.hpp"
#include "tests/support/golden.hpp"
#include "tests/support/labs.hpp"

namespace hy = labctl::hv::hyperv;
namespace model = labctl::model;
using labctl::Status;
using labctl::hv::Hypervisor;
using labctl::hv::ObjectKind;
using labctl::hv::PowerState;
using labctl::hv::VolumeFormat;
using labctl::testing::FakePowerShell;
using Calls = std::vector<std::string>;
using Nats = std::map<std::string, std::string>;

namespace {

using Steps = std::vector<std::function<Status()>>;

// VMs whose tag carries another spec (or "pending") are deleted with their disk and
// recreated; missing ones are created and started.
void add_vm_steps(Hypervisor& hv, const model::Lab& lab, const model::Team& team,
                  const labctl::hv::Inventory& have, const std::string& console_dir, Steps& steps) {
  for (const model::Vm& vm : team.vms) {
    const labctl::hv::Object* domain = have.find(ObjectKind::domain, vm.name);
    const bool stale = domain != nullptr && domain->tag.spec_hash != vm.spec_hash;
    if (stale) {
      steps.emplace_back([&] { return hv.delete_domain(lab.classroom, vm.name); });
      steps.emplace_back([&] { return hv.delete_volume(lab.pool, vm.disk_volume); });
    }
    if (stale || have.find(ObjectKind::volume, vm.disk_volume) == nullptr) {
      steps.emplace_back(
          [&] { return hv.create_overlay(lab.pool, vm.disk_volume, lab.base_volume, vm.disk); });
    }
    if (have.find(ObjectKind::volume, vm.seed_volume) == nullptr) {
      steps.emplace_back([&] {
        return hv.upload_volume(lab.pool, vm.seed_volume, "/tmp/" + vm.seed_volume,
                                VolumeFormat::raw);
      });
    }
  }
  for (const model::Vm& vm : team.vms) {
    const labctl::hv::Object* domain = have.find(ObjectKind::domain, vm.name);
    if (domain == nullptr || domain->tag.spec_hash != vm.spec_hash) {
      steps.emplace_back([&] {
        return hv.create_domain(
            {&lab, &vm, "", console_dir.empty() ? "" : console_dir + "/" + vm.name + ".log"});
      });
      steps.emplace_back([&] { return hv.start_domain(lab, vm.name); });
    }
  }
}

// A stand-in for the planner (written in parallel): creates what the inventory lacks,
// in the design's order (pool, base, networks, disks, VMs), and stops at the first error.
Status up_team(Hypervisor& hv, const model::Lab& lab, const std::string& base_image,
               std::size_t team = 0, const std::string& console_dir = "") {
  auto have = hv.inventory(lab.classroom);
  if (!have) {
    return have.error();
  }
  Steps steps;
  if (have->find(ObjectKind::pool, lab.pool) == nullptr) {
    steps.emplace_back([&] { return hv.create_pool(lab); });
  }
  if (have->find(ObjectKind::volume, lab.base_volume) == nullptr) {
    steps.emplace_back([&] {
      return hv.upload_volume(lab.pool, lab.base_volume, base_image, VolumeFormat::qcow2);
    });
  }
  for (const model::Network& net : lab.teams[team].networks) {
    if (have->find(ObjectKind::network, net.name) == nullptr) {
      steps.emplace_back([&] { return hv.create_network(lab, net); });
    }
  }
  add_vm_steps(hv, lab, lab.teams[team], *have, console_dir, steps);
  for (const auto& step : steps) {
    if (Status status = step(); !status) {
      return status;
    }
  }
  return {};
}

// Deletes what the inventory shows as the team's, VMs first.
Status down_team(Hypervisor& hv, const std::string& classroom, const std::string& team) {
  auto have = hv.inventory(classroom);
  if (!have) {
    return have.error();
  }
  for (ObjectKind kind : {ObjectKind::domain, ObjectKind::volume, ObjectKind::network}) {
    for (const labctl::hv::Object& object : have->objects) {
      if (object.kind != kind || object.tag.team != team) {
        continue;
      }
      Status status = kind == ObjectKind::domain   ? hv.delete_domain(classroom, object.name)
                      : kind == ObjectKind::volume ? hv.delete_volume(object.pool, object.name)
                                                   : hv.delete_network(classroom, object.name);
      if (!status) {
        return status;
      }
    }
  }
  return {};
}

// A file that starts like a VHDX (the signature "vhdxfile").
std::string write_vhdx(const std::filesystem::path& dir) {
  const std::string path = (dir / "debian-12-docker.vhdx").string();
  std::ofstream(path, std::ios::binary) << "vhdxfile" << std::string(504, '\0');
  return path;
}

// The backend as the factory makes it for `hyperv://` (wsl_options), with WSL's wslpath
// and Windows' powershell.exe replaced by fakes.
struct Fixture {
  labctl::testing::ScratchDir scratch{"lct-hyperv"};
  std::string base = write_vhdx(scratch.path());
  std::unique_ptr<FakePowerShell> owned = std::make_unique<FakePowerShell>();
  FakePowerShell* host = owned.get();
  std::shared_ptr<labctl::testing::FakeWslpath> wslpath =
      std::make_shared<labctl::testing::FakeWslpath>();
  std::unique_ptr<Hypervisor> hv;

  explicit Fixture(bool wsl = true) {
    hv = hy::make_hyperv("hyperv://", labctl::testing::session_on(*host),
                         wsl ? hy::wsl_options(wslpath) : hy::HypervOptions{});
  }
};

const Calls k_fresh_up = {"inventory cd26",
                          "create-pool cd26",
                          "upload-volume cd26-base.qcow2",
                          "create-network cd26-team1-lan",
                          "create-network cd26-team1-lab",
                          "create-overlay cd26-team1-vm1.qcow2",
                          "upload-volume cd26-team1-vm1-seed.iso",
                          "create-overlay cd26-team1-vm2.qcow2",
                          "upload-volume cd26-team1-vm2-seed.iso",
                          "create-vm cd26-team1-vm1",
                          "start-vm cd26-team1-vm1",
                          "create-vm cd26-team1-vm2",
                          "start-vm cd26-team1-vm2"};

}  // namespace

TEST_CASE("Hyper-V backend through a fake powershell.exe: up, again, down", "[unit]") {
  Fixture f;
  const model::Lab lab = labctl::testing::hyperv_lab();

  SECTION("a fresh up runs every create script, in order, and the host ends up complete") {
    REQUIRE(up_team(*f.hv, lab, f.base).ok());
    CHECK(f.host->calls == k_fresh_up);
    CHECK(f.host->processes == 1);  // one powershell.exe for the whole run
    CHECK(f.host->files == std::set<std::string>{"cd26-base.vhdx", "cd26-team1-vm1.vhdx",
                                                 "cd26-team1-vm1-seed.iso", "cd26-team1-vm2.vhdx",
                                                 "cd26-team1-vm2-seed.iso"});
    CHECK(f.host->nats == Nats{{"cd26-nat", "10.61.0.0/16"}});
    CHECK(f.host->vms.at("cd26-team1-vm2").notes ==
          "labctl:v1 classroom=cd26 team=team1 role=domain spec=" + lab.teams[0].vms[1].spec_hash +
              " identity=" + lab.identity);
    CHECK(f.host->vms.at("cd26-team1-vm2").state == "Running");
    CHECK(f.host->switches.at("cd26-team1-lab") ==
          "labctl:v1 classroom=cd26 team=team1 role=network spec=" +
              model::network_spec_hash(lab.teams[0].networks[1]) + " identity=" + lab.identity);
  }
  SECTION("a second up sees everything in the inventory and creates nothing") {
    REQUIRE(up_team(*f.hv, lab, f.base).ok());
    for (bool numeric : {false, true}) {  // State as "Running" (7) and as 2 (5.1)
      f.host->numeric_state = numeric;
      f.host->calls.clear();
      REQUIRE(up_team(*f.hv, lab, f.base).ok());
      CHECK(f.host->calls == Calls{"inventory cd26"});
      auto inventory = f.hv->inventory("cd26");
      REQUIRE(inventory.ok());
      CHECK(inventory->host == "hyperv://");
      CHECK(inventory->objects.size() == 10);  // pool, 5 volumes, 2 switches, 2 VMs
      const auto* vm1 = inventory->find(ObjectKind::domain, "cd26-team1-vm1");
      REQUIRE(vm1 != nullptr);
      CHECK(vm1->state == PowerState::running);
      CHECK(vm1->tag.spec_hash == lab.teams[0].vms[0].spec_hash);
      CHECK(inventory->find(ObjectKind::network, "cd26-team1-lan")->cidr == "10.61.0.0/24");
    }
  }
  SECTION("down deletes by tag: an untagged look-alike and another classroom's VM stay") {
    REQUIRE(up_team(*f.hv, lab, f.base).ok());
    f.host->vms["cd26-team1-vm1-old"] = {"", "Running"};
    f.host->vms["cd26-team1-vm9"] = {"student notes: team1 vm", "Off"};
    f.host->vms["cd27-team1-vm1"] = {"labctl:v1 classroom=cd27 team=team1 role=domain spec=x",
                                     "Running"};
    f.host->switches["cd26-team1-lan-old"] = "";
    f.host->calls.clear();
    REQUIRE(down_team(*f.hv, "cd26", "team1").ok());
    CHECK(f.host->calls ==
          Calls{"inventory cd26", "delete-vm cd26-team1-vm1", "delete-vm cd26-team1-vm2",
                "delete-volume cd26-team1-vm1-seed.iso", "delete-volume cd26-team1-vm1.qcow2",
                "delete-volume cd26-team1-vm2-seed.iso", "delete-volume cd26-team1-vm2.qcow2",
                "delete-network cd26-team1-lab", "delete-network cd26-team1-lan"});
    CHECK(f.host->vms.size() == 3);
    CHECK(f.host->vms.count("cd26-team1-vm1-old") == 1);
    CHECK(f.host->switches.size() == 1);
    CHECK(f.host->files == std::set<std::string>{"cd26-base.vhdx"});
    SECTION("and asked directly, the script refuses an untagged VM") {
      Status refused = f.hv->delete_domain("cd26", "cd26-team1-vm1-old");
      REQUIRE_FALSE(refused.ok());
      CHECK(refused.error().message ==
            "hyperv delete-vm cd26-team1-vm1-old: labctl: VM cd26-team1-vm1-old does not carry "
            "this classroom's tag; not deleting it");
      CHECK(f.host->vms.count("cd26-team1-vm1-old") == 1);
    }
  }
}

TEST_CASE("Hyper-V backend as hyperv:// makes it: every path in every script is Windows'",
          "[unit]") {
  const model::Lab lab = labctl::testing::hyperv_lab();
  SECTION("under WSL, up and down hand PowerShell no Linux path") {
    Fixture f;
    REQUIRE(up_team(*f.hv, lab, f.base).ok());
    REQUIRE(down_team(*f.hv, "cd26", "team1").ok());
    CHECK(f.host->calls.size() == k_fresh_up.size() + 9);
    CHECK(f.host->linux_paths.empty());
    CHECK(f.wslpath->calls.front() == Calls{"wslpath", "-w", f.base});
    CHECK(f.wslpath->calls.size() == 3);  // the base image and two seeds
  }
  SECTION("the check has teeth: without the mapping, the uploads name Linux paths") {
    Fixture f(false);
    REQUIRE(up_team(*f.hv, lab, f.base).ok());
    CHECK(f.host->linux_paths ==
          Calls{f.base, "/tmp/cd26-team1-vm1-seed.iso", "/tmp/cd26-team1-vm2-seed.iso"});
  }
}

TEST_CASE("Hyper-V backend: each VM's COM1 is captured into its serial log, read as libvirt's",
          "[unit]") {
  Fixture f;
  const model::Lab lab = labctl::testing::hyperv_lab();
  const std::string dir = f.scratch.path().string();
  f.host->boot_output["cd26-team1-vm1"] =
      "[    0.000000] Linux version 6.1.0\r\n[    2.1] Kernel panic - not syncing: VFS: Unable "
      "to mount root fs\r\n";
  REQUIRE(up_team(*f.hv, lab, f.base, 0, dir).ok());
  CHECK(f.host->com_ports == Nats{{"cd26-team1-vm1", "\\\\.\\pipe\\labctl-cd26-team1-vm1"},
                                  {"cd26-team1-vm2", "\\\\.\\pipe\\labctl-cd26-team1-vm2"}});
  std::string windows_dir = "\\\\wsl.localhost\\Debian" + dir;
  std::replace(windows_dir.begin(), windows_dir.end(), '/', '\\');
  CHECK(f.host->consoles == Nats{{"cd26-team1-vm1", windows_dir + "\\cd26-team1-vm1.log"},
                                 {"cd26-team1-vm2", windows_dir + "\\cd26-team1-vm2.log"}});
  CHECK(f.host->linux_paths.empty());
  labctl::ready::ConsoleWatch watch(dir + "/cd26-team1-vm1.log");
  const auto failure = watch.poll();
  REQUIRE(failure.has_value());
  CHECK(failure->what == "kernel panic");
  CHECK(failure->summary == "[    2.1] Kernel panic - not syncing: VFS: Unable to mount root fs");
  SECTION("a VM started again without being created by this run gets no capture") {
    f.host->consoles.clear();
    auto other = hy::make_hyperv("hyperv://", labctl::testing::session_on(*f.host),
                                 hy::wsl_options(f.wslpath));
    REQUIRE(other->start_domain(lab, "cd26-team1-vm1").ok());
    CHECK(f.host->consoles.empty());
  }
}

TEST_CASE("Hyper-V backend: WSL 2 reaches the nat switches by forwarding, undone by down",
          "[unit]") {
  Fixture f;
  const model::Lab lab = labctl::testing::hyperv_lab(2);
  using Forwarding = std::map<std::string, bool>;
  SECTION("on for WSL's vEthernet and each nat switch's, off again with the last one") {
    REQUIRE(up_team(*f.hv, lab, f.base, 0).ok());
    REQUIRE(up_team(*f.hv, lab, f.base, 1).ok());
    CHECK(f.host->forwarding == Forwarding{{"vEthernet (WSL)", true},
                                           {"vEthernet (cd26-team1-lan)", true},
                                           {"vEthernet (cd26-team2-lan)", true}});
    CHECK(f.host->forwarding_record == Calls{"vEthernet (WSL)"});
    REQUIRE(down_team(*f.hv, "cd26", "team1").ok());
    CHECK(f.host->forwarding ==
          Forwarding{{"vEthernet (WSL)", true}, {"vEthernet (cd26-team2-lan)", true}});
    REQUIRE(down_team(*f.hv, "cd26", "team2").ok());
    CHECK(f.host->forwarding == Forwarding{{"vEthernet (WSL)", false}});
    CHECK(f.host->forwarding_record.empty());
  }
  SECTION("WSL restarted (its forwarding off again): the next VM start turns it back on") {
    REQUIRE(up_team(*f.hv, lab, f.base, 0).ok());
    f.host->forwarding["vEthernet (WSL)"] = false;
    f.host->forwarding_record.clear();
    REQUIRE(f.hv->start_domain(lab, "cd26-team1-vm1").ok());
    CHECK(f.host->forwarding.at("vEthernet (WSL)"));
    CHECK(f.host->forwarding_record == Calls{"vEthernet (WSL)"});
  }
  SECTION("forwarding that was on before labctl stays on after down") {
    f.host->forwarding["vEthernet (WSL)"] = true;
    REQUIRE(up_team(*f.hv, lab, f.base, 0).ok());
    CHECK(f.host->forwarding_record.empty());
    REQUIRE(down_team(*f.hv, "cd26", "team1").ok());
    CHECK(f.host->forwarding == Forwarding{{"vEthernet (WSL)", true}});
  }
}

TEST_CASE("Hyper-V backend: the VMs reach the classroom registry in WSL by a route to it",
          "[unit]") {
  Fixture f;
  model::Lab lab = labctl::testing::hyperv_lab(2);
  using Routes = std::map<std::string, std::string>;
  const Routes ours = {{"10.255.255.1/32", "172.29.18.5"}};
  SECTION("a whole up adds it once; down of the last nat switch removes it") {
    REQUIRE(up_team(*f.hv, lab, f.base, 0).ok());
    CHECK(f.host->routes == ours);
    CHECK(f.host->routes_added == 1);  // create-network, then two starts that find it right
    CHECK(f.host->route_record == Calls{"10.255.255.1/32"});
    CHECK(f.wslpath->route_queries == Calls{"10.61.0.1", "10.61.0.1", "10.61.0.1"});
    REQUIRE(up_team(*f.hv, lab, f.base, 1).ok());
    CHECK(f.host->routes_added == 1);
    REQUIRE(down_team(*f.hv, "cd26", "team1").ok());
    CHECK(f.host->routes == ours);  // team2's VMs still use it
    REQUIRE(down_team(*f.hv, "cd26", "team2").ok());
    CHECK(f.host->routes.empty());
    CHECK(f.host->route_record.empty());
  }
  SECTION("WSL restarted with another address: the next VM start points the route at it") {
    REQUIRE(up_team(*f.hv, lab, f.base, 0).ok());
    f.wslpath->address = "172.29.20.7";
    REQUIRE(f.hv->start_domain(lab, "cd26-team1-vm1").ok());
    CHECK(f.host->routes == Routes{{"10.255.255.1/32", "172.29.20.7"}});
    CHECK(f.host->routes_added == 2);
    CHECK(f.host->route_record == Calls{"10.255.255.1/32"});
    REQUIRE(down_team(*f.hv, "cd26", "team1").ok());
    CHECK(f.host->routes.empty());
  }
  SECTION("Windows rebooted (the route was in the active store only): the next start adds it") {
    REQUIRE(up_team(*f.hv, lab, f.base, 0).ok());
    f.host->routes.clear();
    REQUIRE(f.hv->start_domain(lab, "cd26-team1-vm2").ok());
    CHECK(f.host->routes == ours);
    CHECK(f.host->route_record == Calls{"10.255.255.1/32"});
  }
  SECTION("a route to that address that labctl did not make survives up and down") {
    f.host->routes["10.255.255.1/32"] = "192.168.50.2";
    REQUIRE(up_team(*f.hv, lab, f.base, 0).ok());
    CHECK(f.host->routes == Routes{{"10.255.255.1/32", "192.168.50.2"}});
    CHECK(f.host->routes_added == 0);
    CHECK(f.host->route_record.empty());
    REQUIRE(down_team(*f.hv, "cd26", "team1").ok());
    CHECK(f.host->routes == Routes{{"10.255.255.1/32", "192.168.50.2"}});
  }
  SECTION("no route without the classroom registry: an outside mirror, or disabled") {
    lab.docker.registry_mirror = "http://mirror.school.example:5000";
    REQUIRE(up_team(*f.hv, lab, f.base, 0).ok());
    lab.docker.registry_mirror.clear();
    lab.registry.enabled = false;
    REQUIRE(up_team(*f.hv, lab, f.base, 1).ok());
    CHECK(f.host->routes.empty());
    CHECK(f.wslpath->route_queries.empty());
  }
  SECTION("another registry address: routed to that one") {
    lab.registry.address = "10.255.255.9";
    REQUIRE(up_team(*f.hv, lab, f.base, 0).ok());
    CHECK(f.host->routes == Routes{{"10.255.255.9/32", "172.29.18.5"}});
  }
}

TEST_CASE("WSL's address toward Windows is the source of its route to a nat gateway", "[unit]") {
  SECTION("parsed from `ip -4 -o route get`") {
    CHECK(hy::parse_route_source("10.61.1.1 via 172.29.16.1 dev eth0 src 172.29.18.5 uid 1000 "
                                 "\\    cache \n")
              .value() == "172.29.18.5");
    CHECK_FALSE(hy::parse_route_source("RTNETLINK answers: Network is unreachable").ok());
    CHECK_FALSE(hy::parse_route_source("10.61.1.1 dev eth0 src 172.29.18.5'; Remove-Item").ok());
    CHECK_FALSE(hy::parse_route_source("10.61.1.1 dev eth0 src").ok());
  }
  SECTION("the real `ip` on this machine") {
    if (!labctl::sys::on_path("ip")) {
      WARN("SKIPPED: ip (iproute2) is not installed");
      return;
    }
    auto finder = hy::route_source_finder(std::make_shared<labctl::sys::SystemRunner>());
    auto found = finder("127.0.0.1");
    INFO((found.ok() ? *found : found.error().message));
    CHECK(found.value() == "127.0.0.1");  // "local 127.0.0.1 dev lo src 127.0.0.1 ..."
    CHECK_FALSE(finder("127.0.0.1 dev lo").ok());
  }
}

TEST_CASE("Hyper-V backend: a cmdlet failing mid-way surfaces and a re-run converges", "[unit]") {
  Fixture f;
  const model::Lab lab = labctl::testing::hyperv_lab();
  f.host->fail_on = "create-vm cd26-team1-vm2";
  f.host->fail_message =
      "Set-VMMemory: Failed to modify device 'Memory'. Not enough memory in "
      "the system to start the virtual machine cd26-team1-vm2.";
  Status first = up_team(*f.hv, lab, f.base);
  REQUIRE_FALSE(first.ok());
  CHECK(first.error().message ==
        "hyperv create-vm cd26-team1-vm2: Set-VMMemory: Failed to modify device 'Memory'. Not "
        "enough memory in the system to start the virtual machine cd26-team1-vm2.");
  CHECK(f.host->calls == Calls(k_fresh_up.begin(), k_fresh_up.end() - 1));
  // The half-built VM carries the placeholder spec, so the next run recreates it.
  CHECK(f.host->vms.at("cd26-team1-vm2").notes ==
        "labctl:v1 classroom=cd26 team=team1 role=domain spec=pending identity=" + lab.identity);

  f.host->calls.clear();
  REQUIRE(up_team(*f.hv, lab, f.base).ok());
  CHECK(f.host->calls == Calls{"inventory cd26", "delete-vm cd26-team1-vm2",
                               "delete-volume cd26-team1-vm2.qcow2",
                               "create-overlay cd26-team1-vm2.qcow2", "create-vm cd26-team1-vm2",
                               "start-vm cd26-team1-vm2"});
  CHECK(f.host->vms.at("cd26-team1-vm2").notes ==
        "labctl:v1 classroom=cd26 team=team1 role=domain spec=" + lab.teams[0].vms[1].spec_hash +
            " identity=" + lab.identity);
  CHECK(f.host->vms.at("cd26-team1-vm2").state == "Running");

  f.host->calls.clear();
  REQUIRE(up_team(*f.hv, lab, f.base).ok());
  CHECK(f.host->calls == Calls{"inventory cd26"});
}

TEST_CASE("Hyper-V backend: host facts and what it refuses", "[unit]") {
  Fixture f;
  SECTION("capabilities say hyperv, one NAT, no DHCP reservations") {
    const labctl::hv::Capabilities caps = f.hv->capabilities();
    CHECK(caps.scheme == "hyperv");
    CHECK(caps.max_nat_networks == 1);
    CHECK_FALSE(caps.dhcp_reservations);
    CHECK_FALSE(caps.kvm);
    CHECK_FALSE(caps.remote);
    CHECK(f.hv->uri() == "hyperv://");
  }
  SECTION("host info") {
    auto info = f.hv->host_info();
    REQUIRE(info.ok());
    CHECK(info->memory_total == 32 * model::k_gib);
    CHECK(info->memory_free == 8 * model::k_gib);
    CHECK(info->cpus == 8);
  }
  SECTION("another NetNat on the host is refused with the script's message") {
    f.host->nats["WinNAT"] = "172.30.0.0/24";
    const model::Lab lab = labctl::testing::hyperv_lab();
    Status status = f.hv->create_network(lab, lab.teams[0].networks[0]);
    REQUIRE_FALSE(status.ok());
    CHECK(status.error().message ==
          "hyperv create-network cd26-team1-lan: labctl: Windows allows one NetNat per host and "
          "'WinNAT' exists (172.30.0.0/24): remove it if nothing uses it, or run this classroom "
          "on another host");
    CHECK(f.host->switches.empty());
  }
  SECTION("volume paths and pools follow the classroom directory") {
    CHECK(*f.hv->volume_path("cd26-pool", "cd26-team1-vm1.qcow2") ==
          "C:\\ProgramData\\labctl\\cd26\\cd26-team1-vm1.vhdx");
    CHECK_FALSE(f.hv->volume_path("other", "x.qcow2").ok());
    CHECK_FALSE(f.hv->volume_path("cd26-pool", "..\\x").ok());
    CHECK_FALSE(f.hv->delete_pool("cd26", "cd27-pool").ok());
    CHECK(f.host->calls.empty());  // refused before any script ran
  }
}

namespace {

labctl::plan::Plan plan_all(Hypervisor& hv, const model::Lab& lab) {
  auto inventory = hv.inventory(lab.classroom);
  REQUIRE(inventory.ok());
  labctl::plan::Scope scope;
  scope.all = true;
  return labctl::plan::plan_up(lab, *inventory, scope);
}

}  // namespace

TEST_CASE("Hyper-V backend: one NetNat per classroom for every team's nat network", "[unit]") {
  Fixture f;
  const model::Lab lab = labctl::testing::hyperv_lab(2);
  REQUIRE(up_team(*f.hv, lab, f.base, 0).ok());
  REQUIRE(up_team(*f.hv, lab, f.base, 1).ok());

  SECTION("two teams: two Internal switches, each with its gateway, and one NetNat") {
    CHECK(f.host->nats == Nats{{"cd26-nat", "10.61.0.0/16"}});
    CHECK(f.host->internal == std::set<std::string>{"cd26-team1-lan", "cd26-team2-lan"});
    CHECK(f.host->addresses ==
          Nats{{"cd26-team1-lan", "10.61.0.1/24"}, {"cd26-team2-lan", "10.61.2.1/24"}});
    CHECK(f.host->switches.size() == 4);
  }
  SECTION("a second up asks nothing: every switch is covered by the NetNat") {
    f.host->calls.clear();
    REQUIRE(up_team(*f.hv, lab, f.base, 0).ok());
    REQUIRE(up_team(*f.hv, lab, f.base, 1).ok());
    CHECK(f.host->calls == Calls{"inventory cd26", "inventory cd26"});
    CHECK(plan_all(*f.hv, lab).empty());
  }
  SECTION("down of one team keeps the NetNat; down of the last one removes it") {
    REQUIRE(down_team(*f.hv, "cd26", "team1").ok());
    CHECK(f.host->nats == Nats{{"cd26-nat", "10.61.0.0/16"}});
    CHECK(f.host->internal == std::set<std::string>{"cd26-team2-lan"});
    REQUIRE(down_team(*f.hv, "cd26", "team2").ok());
    CHECK(f.host->nats.empty());
    CHECK(f.host->switches.empty());
  }
  SECTION("another classroom's NAT switch does not keep this classroom's NetNat") {
    f.host->switches["cd27-team1-lan"] = "labctl:v1 classroom=cd27 team=team1 role=network spec=x";
    f.host->internal.insert("cd27-team1-lan");
    REQUIRE(down_team(*f.hv, "cd26", "team1").ok());
    REQUIRE(down_team(*f.hv, "cd26", "team2").ok());
    CHECK(f.host->nats.empty());
    CHECK(f.host->switches.size() == 1);
  }
  SECTION("a NetNat removed by hand: plan shows each nat network, up makes the NetNat again") {
    f.host->nats.clear();
    const labctl::plan::Plan plan = plan_all(*f.hv, lab);
    std::vector<std::string> got;
    for (const labctl::plan::Action& action : plan.actions) {
      got.push_back(labctl::plan::to_string(action.op) + " " + action.name + ": " + action.reason);
    }
    CHECK(got == std::vector<std::string>{"start cd26-team1-lan: start: network is inactive",
                                          "start cd26-team2-lan: start: network is inactive"});
    // What apply does for it: the switch deleted, then created again.
    for (const char* name : {"cd26-team1-lan", "cd26-team2-lan"}) {
      REQUIRE(f.hv->delete_network("cd26", name).ok());
      const auto& net = lab.teams[name == std::string("cd26-team1-lan") ? 0 : 1].networks[0];
      REQUIRE(f.hv->create_network(lab, net).ok());
    }
    CHECK(f.host->nats == Nats{{"cd26-nat", "10.61.0.0/16"}});
    CHECK(plan_all(*f.hv, lab).empty());
  }
}

TEST_CASE("Hyper-V backend: what the classroom's NetNat refuses", "[unit]") {
  Fixture f;
  const model::Lab lab = labctl::testing::hyperv_lab(2);
  SECTION("a foreign NetNat: nothing of the nat network is created") {
    f.host->nats["DockerNAT"] = "10.0.75.0/24";
    Status status = up_team(*f.hv, lab, f.base, 0);
    REQUIRE_FALSE(status.ok());
    CHECK(status.error().message ==
          "hyperv create-network cd26-team1-lan: labctl: Windows allows one NetNat per host and "
          "'DockerNAT' exists (10.0.75.0/24): remove it if nothing uses it, or run this "
          "classroom on another host");
    CHECK(f.host->switches.empty());
    CHECK(f.host->nats == Nats{{"DockerNAT", "10.0.75.0/24"}});
  }
  SECTION("the classroom's own NetNat over another prefix names both") {
    f.host->nats["cd26-nat"] = "10.61.0.0/24";
    Status status = f.hv->create_network(lab, lab.teams[1].networks[0]);
    REQUIRE_FALSE(status.ok());
    CHECK(status.error().message ==
          "hyperv create-network cd26-team2-lan: labctl: NetNat cd26-nat covers 10.61.0.0/24 "
          "but the lab's nat networks need 10.61.0.0/16: labctl down --all, then up");
    CHECK(f.host->switches.empty());
  }
  SECTION("a nat network that is not the lab's is refused before any script runs") {
    model::Network stray = lab.teams[0].networks[0];
    stray.subnet = model::Subnet{(10U << 24) | (99U << 16), 24};
    stray.gateway = stray.subnet->address(1);
    Status status = f.hv->create_network(lab, stray);
    REQUIRE_FALSE(status.ok());
    CHECK(status.error().message ==
          "create-network cd26-team1-lan: nat network cd26-team1-lan (10.99.0.0/24) is not one "
          "of the lab's");
    CHECK(f.host->calls.empty());
  }
}

TEST_CASE("Hyper-V backend: students' access as static mappings on the classroom's NetNat",
          "[unit]") {
  Fixture f;
  model::Lab lab = labctl::testing::hyperv_lab(2);
  lab.access.enabled = true;
  lab.access.host = "lab-server.school.lan";
  lab.access.ssh = true;
  REQUIRE(up_team(*f.hv, lab, f.base, 0).ok());
  REQUIRE(up_team(*f.hv, lab, f.base, 1).ok());
  auto access_actions = [&] {
    std::vector<std::string> got;
    for (const labctl::plan::Action& action : plan_all(*f.hv, lab).actions) {
      got.push_back(labctl::plan::to_string(action.op) + " " + action.name + ": " + action.reason);
    }
    return got;
  };
  CHECK(access_actions() == std::vector<std::string>{"create cd26-team1-access: create",
                                                     "create cd26-team2-access: create"});
  REQUIRE(f.hv->publish(lab, "team1").ok());
  REQUIRE(f.hv->publish(lab, "team2").ok());
  // Per VM its SSH and all nine instance slots, used or not (a `squash add` needs no
  // mapping of its own): 2 teams x 2 VMs x 10.
  const auto team_mappings = [](int team, const std::string& net) {
    std::map<int, std::string> out;
    for (int vm = 1; vm <= 2; ++vm) {
      const std::string ip = fmt::format("{}.1{}", net, vm);
      out[20000 + team * 100 + vm] = ip + ":22";
      for (int slot = 1; slot <= 9; ++slot) {
        out[20000 + team * 100 + slot * 10 + vm] = fmt::format("{}:{}", ip, 8080 + slot);
      }
    }
    return out;
  };
  const auto team1 = team_mappings(1, "10.61.0");
  const auto team2 = team_mappings(2, "10.61.2");
  auto both = team1;
  both.insert(team2.begin(), team2.end());
  CHECK(f.host->mappings.size() == 40);
  CHECK(f.host->mappings == both);
  CHECK(f.host->mappings.at(20111) == "10.61.0.11:8081");
  CHECK(f.host->mappings.at(20212) == "10.61.2.12:8081");
  CHECK(access_actions().empty());
  SECTION("a mapping removed by hand: plan recreates the team's") {
    f.host->mappings.erase(20111);
    CHECK(access_actions() ==
          std::vector<std::string>{"recreate cd26-team1-access: recreate: forwarding missing "
                                   "or shadowed on the host"});
    REQUIRE(f.hv->publish(lab, "team1").ok());
    CHECK(f.host->mappings == both);
  }
  SECTION("unpublish removes the team's only; a mapping labctl did not make stays") {
    f.host->mappings[20199] = "10.61.0.50:80";
    REQUIRE(f.hv->unpublish(lab, "team1").ok());
    auto left = team2;
    left[20199] = "10.61.0.50:80";
    CHECK(f.host->mappings == left);
    CHECK(f.host->access_records.count("team1") == 0);
  }
}
