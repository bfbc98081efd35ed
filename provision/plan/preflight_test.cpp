// The host checks `up` and `plan` make before anything is created, as pure functions of the
// lab, the plan and what a host reported. [unit] tier.

#include "provision/plan/preflight.hpp"

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "provision/model/addressing.hpp"
#include "tests/support/labs.hpp"

using namespace labctl;
using labctl::testing::teams_of;

namespace {

constexpr model::Bytes k_gib = model::Bytes{1} << 30;
constexpr model::Bytes k_mib = model::Bytes{1} << 20;

// Team red with a nat "lan" on 10.146.1.0/24 and `vms` VMs of `memory` each.
model::Lab lab_of(int vms, model::Bytes memory) {
  std::string text = fmt::format(R"(classroom: cd26
image: {{ build: debian-12, with: [docker] }}
memory_cap: {}MiB
defaults: {{ memory: {}MiB }}
teams: {{ names: [red] }}
template:
  networks:
    lan: {{ kind: nat, subnet: 10.146.1.0/24 }}
  vms:
)",
                                 memory / k_mib, memory / k_mib);
  for (int i = 1; i <= vms; ++i) {
    text += fmt::format("    vm{}: {{}}\n", i);
  }
  return labctl::testing::lab_from_yaml(text);
}

// The plan starts every VM of the lab.
plan::Plan starting_all(const model::Lab& lab) {
  plan::Plan plan;
  for (const model::Team& team : lab.teams) {
    for (const model::Vm& vm : team.vms) {
      plan.actions.push_back(
          {plan::Op::start, plan::Role::domain, vm.name, team.name, vm.key, "", "start"});
    }
  }
  return plan;
}

}  // namespace

TEST_CASE("check_capacity: the started VMs' caps against free memory less the reserve", "[unit]") {
  model::Lab lab = lab_of(4, 2 * k_gib);
  lab.hosts.push_back({"qemu:///system", 512 * k_mib, {}});
  const plan::Plan plan = starting_all(lab);
  const hv::HostInfo host{"h1", 24 * k_gib, 8 * k_gib, 2};

  SECTION("fits: 8GiB needed, 8GiB free, no reserve on this URI") {
    CHECK(plan::check_capacity(lab, plan, host, "qemu:///session", false));
  }
  SECTION("refused when the reserve makes it short, with every figure") {
    const auto refused = plan::check_capacity(lab, plan, host, "qemu:///system", false);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().message ==
          "4 VMs need 8GiB of memory (their caps); qemu:///system has 8GiB free of 24GiB "
          "(reserve 512MiB): short by 512MiB. Bring fewer teams up, add a host, or give --force");
  }
  SECTION("--force overcommits") {
    CHECK(plan::check_capacity(lab, plan, host, "qemu:///system", true));
  }
  SECTION("only VMs the plan starts count") {
    plan::Plan fewer = plan;
    fewer.actions.pop_back();
    CHECK(plan::check_capacity(lab, fewer, host, "qemu:///system", false));
  }
  SECTION("a host that reports no memory is not checked") {
    CHECK(plan::check_capacity(lab, plan, hv::HostInfo{"h1", 0, 0, 2}, "qemu:///system", false));
  }
}

TEST_CASE("check_subnets: a team subnet overlapping a network that is not the classroom's",
          "[unit]") {
  const model::Lab lab = lab_of(1, 2 * k_gib);
  const auto teams = teams_of(lab);
  std::vector<hv::HostNetwork> networks{{"default", "192.168.122.1/24", "", false},
                                        {"cd26-red-lan", "10.146.1.1/24", "cd26", false}};
  CHECK(plan::check_subnets(lab, teams, 0, networks, "qemu:///system"));
  networks.push_back({"school", "10.146.0.1/16", "", false});
  const auto refused = plan::check_subnets(lab, teams, 0, networks, "qemu:///system");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message ==
        "lab.yaml: network cd26-red-lan (10.146.1.0/24) overlaps school (10.146.0.1/16) on "
        "qemu:///system: set `subnets:` in the lab file to a free range");
  // A bridge network's subnet is the LAN's own: the host may well be on it.
  model::Lab bridged = lab;
  bridged.teams[0].networks[0].kind = model::NetworkKind::bridge;
  CHECK(plan::check_subnets(bridged, teams_of(bridged), 0, networks, "qemu:///system"));
}

TEST_CASE("check_shared_nat: one host-wide NAT per host, the classroom's or none", "[unit]") {
  const model::Lab lab = lab_of(1, 2 * k_gib);
  const auto teams = teams_of(lab);
  CHECK(plan::uses_nat(teams));
  SECTION("a host without host-wide NATs is not checked") {
    CHECK(plan::check_shared_nat(lab, teams, 0, {{"WinNAT", "172.30.0.0/24", "", true}},
                                 "qemu:///system"));
  }
  SECTION("another NAT already there: refused, naming it and the ways out") {
    const auto refused =
        plan::check_shared_nat(lab, teams, 1, {{"WinNAT", "172.30.0.0/24", "", true}}, "hyperv://");
    REQUIRE_FALSE(refused);
    CHECK(refused.error().message.find(
              "lab.yaml: hyperv:// allows 1 NAT per host and already has WinNAT (172.30.0.0/24), "
              "which is not classroom cd26's") == 0);
  }
  SECTION("the classroom's own NAT is no obstacle") {
    CHECK(plan::check_shared_nat(lab, teams, 1, {{"cd26-nat", "10.146.1.0/24", "cd26", true}},
                                 "hyperv://"));
  }
}

TEST_CASE("choose_accelerator: the lab's choice, else what the host can do", "[unit]") {
  model::Lab lab = lab_of(1, 2 * k_gib);  // accelerator: auto
  hv::Capabilities with_kvm;
  with_kvm.kvm = true;
  CHECK(plan::choose_accelerator(lab, with_kvm) == "kvm");
  CHECK(plan::choose_accelerator(lab, hv::Capabilities{}) == "qemu");
  lab.accelerator = model::Accelerator::qemu;
  CHECK(plan::choose_accelerator(lab, with_kvm) == "qemu");
  lab.accelerator = model::Accelerator::kvm;
  CHECK(plan::choose_accelerator(lab, hv::Capabilities{}) == "kvm");
}

TEST_CASE("check_backend: the boot mode and network kinds the host's backend has", "[unit]") {
  model::Lab lab = lab_of(1, 2 * k_gib);
  model::BackendLimits strict;
  strict.name = "Hyper-V";
  strict.boot_modes = {model::BootMode::disk, model::BootMode::efi};
  strict.network_kinds = {model::NetworkKind::nat};
  const auto teams = teams_of(lab);
  SECTION("a lab without hosts meets its backend here") {
    lab.image.boot = model::BootMode::kernel;
    const Status refused = plan::check_backend(lab, teams, strict, "hyperv://");
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().message ==
          "lab.yaml: boot kernel is not supported on Hyper-V: use disk or efi (host hyperv://)");
  }
  SECTION("a network kind it cannot make") {
    lab.image.boot = model::BootMode::efi;
    lab.teams[0].networks[0].kind = model::NetworkKind::isolated;
    const Status refused = plan::check_backend(lab, teams_of(lab), strict, "hyperv://");
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().message ==
          "lab.yaml: network cd26-red-lan: network kind isolated is not supported on Hyper-V: "
          "use nat (host hyperv://)");
  }
  SECTION("what it can") {
    lab.image.boot = model::BootMode::efi;
    CHECK(plan::check_backend(lab, teams, strict, "hyperv://").ok());
    CHECK(plan::check_backend(lab, teams, model::BackendLimits{}, "qemu:///system").ok());
  }
}
