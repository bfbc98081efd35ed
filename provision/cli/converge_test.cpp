#include "provision/cli/converge.hpp"

#include <catch2/catch.hpp>

#include "hypervisors/hyperv/backend.hpp"
#include "tests/support/fake_powershell.hpp"
#include "tests/support/labs.hpp"

namespace hy = labctl::hv::hyperv;
namespace model = labctl::model;
using Calls = std::vector<std::string>;
using labctl::testing::teams_of;

namespace {

struct HypervHost {
  std::unique_ptr<labctl::testing::FakePowerShell> owned =
      std::make_unique<labctl::testing::FakePowerShell>();
  labctl::testing::FakePowerShell* host = owned.get();
  std::unique_ptr<labctl::hv::Hypervisor> hv =
      hy::make_hyperv("hyperv://", labctl::testing::session_on(*host));
};

}  // namespace

TEST_CASE("up and plan refuse a host-wide NAT that is not the classroom's before anything",
          "[unit]") {
  HypervHost h;
  const model::Lab lab = labctl::testing::hyperv_lab(2);
  const auto teams = teams_of(lab);
  SECTION("another NetNat on the Hyper-V host: refused with the fix, nothing created") {
    h.host->nats["WinNAT"] = "172.30.0.0/24";
    for (auto check : {&labctl::cli::check_subnets, &labctl::cli::check_nat}) {
      h.host->calls.clear();
      labctl::Status status = check(lab, teams, *h.hv, "hyperv://");
      REQUIRE_FALSE(status.ok());
      CHECK(status.error().message ==
            "labs/cd26.yaml: hyperv:// allows 1 NAT per host and already has WinNAT "
            "(172.30.0.0/24), which is not classroom cd26's; the classroom needs one over "
            "10.61.0.0/16 for its nat networks. Remove WinNAT from that host if nothing uses it, "
            "run this classroom on another host (--connect, or teams.overrides.<team>.host), or "
            "use kind: bridge instead of nat");
      CHECK(h.host->calls == Calls{"host-networks local"});
    }
  }
  SECTION("the classroom's own NetNat and another classroom's switch are fine") {
    h.host->nats["cd26-nat"] = "10.61.0.0/16";
    h.host->switches["cd27-team1-lab"] = "labctl:v1 classroom=cd27 team=team1 role=network spec=x";
    CHECK(labctl::cli::check_subnets(lab, teams, *h.hv, "hyperv://").ok());
  }
  SECTION("a host network inside the classroom's NAT prefix") {
    h.host->switches["Default Switch"] = "";
    h.host->addresses["Default Switch"] = "10.61.200.1/24";
    labctl::Status status = labctl::cli::check_nat(lab, teams, *h.hv, "hyperv://");
    REQUIRE_FALSE(status.ok());
    CHECK(status.error().message ==
          "labs/cd26.yaml: the classroom's NAT on hyperv:// covers 10.61.0.0/16 (every nat "
          "network's subnet), which overlaps Default Switch (10.61.200.0/24): set `subnets:` in "
          "the lab file to a free range");
  }
  SECTION("teams without a nat network need no NAT: the host is not even asked") {
    model::Lab isolated = lab;
    for (model::Team& team : isolated.teams) {
      team.networks.erase(team.networks.begin());
    }
    h.host->nats["WinNAT"] = "172.30.0.0/24";
    CHECK(labctl::cli::check_nat(isolated, teams_of(isolated), *h.hv, "hyperv://").ok());
    CHECK(h.host->calls.empty());
  }
}

TEST_CASE("the accelerator: the lab's choice, else KVM only where it works", "[unit]") {
  model::Lab lab;
  labctl::hv::Capabilities with_kvm;
  with_kvm.kvm = true;
  const labctl::hv::Capabilities without_kvm;
  CHECK(labctl::cli::choose_accelerator(lab, with_kvm) == "kvm");
  CHECK(labctl::cli::choose_accelerator(lab, without_kvm) == "qemu");
  lab.accelerator = model::Accelerator::qemu;
  CHECK(labctl::cli::choose_accelerator(lab, with_kvm) == "qemu");
  lab.accelerator = model::Accelerator::kvm;
  CHECK(labctl::cli::choose_accelerator(lab, without_kvm) == "kvm");
}

// Issue 13, point 7: what `up` refuses on the host, `plan` and `up --dry-run` (plan_host)
// refuse too, before anything is created. test:///default has a network "default" on
// 192.168.122.0/24 (bridge virbr0) and the interface eth1.
TEST_CASE("plan_host makes up's host checks: a nat subnet on a host network, a missing bridge",
          "[libvirt]") {
  labctl::cli::GlobalOptions global;
  global.quiet = true;
  model::Lab lab = labctl::testing::small_lab("lctph", 1, 1);
  lab.identity = "0123456789abcdef0123456789abcdef";
  const labctl::plan::Scope scope{{}, true};
  // The test driver has 3MiB free: the capacity check (also made by plan) is forced past.
  const labctl::cli::ConvergeOptions forced{.force = true};
  SECTION("a nat subnet that overlaps a host network") {
    model::Network& lan = lab.teams[0].networks[0];
    lan.subnet = model::Subnet{(192U << 24) | (168U << 16) | (122U << 8), 24};
    const labctl::Status planned =
        labctl::cli::plan_host(global, lab, "test:///default", scope, forced);
    REQUIRE_FALSE(planned.ok());
    CHECK_THAT(planned.error().message,
               Catch::Contains("network lctph-team1-lan (192.168.122.0/24) overlaps default"));
  }
  SECTION("a bridge that the host does not have") {
    lab.teams[0].networks[1].kind = model::NetworkKind::bridge;
    lab.teams[0].networks[1].bridge = "br-hold";
    lab.teams[0].networks[1].subnet.reset();
    const labctl::Status planned =
        labctl::cli::plan_host(global, lab, "test:///default", scope, forced);
    REQUIRE_FALSE(planned.ok());
    CHECK_THAT(planned.error().message, Catch::Contains("network lctph-team1-lab (bridge) joins "
                                                        "br-hold"));
  }
  SECTION("neither: the plan passes") {
    CHECK(labctl::cli::plan_host(global, lab, "test:///default", scope, forced).ok());
  }
}
