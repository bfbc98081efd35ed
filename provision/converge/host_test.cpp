#include "provision/converge/host.hpp"

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
    for (auto check : {&labctl::converge::check_subnets, &labctl::converge::check_nat}) {
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
    CHECK(labctl::converge::check_subnets(lab, teams, *h.hv, "hyperv://").ok());
  }
  SECTION("a host network inside the classroom's NAT prefix") {
    h.host->switches["Default Switch"] = "";
    h.host->addresses["Default Switch"] = "10.61.200.1/24";
    labctl::Status status = labctl::converge::check_nat(lab, teams, *h.hv, "hyperv://");
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
    CHECK(labctl::converge::check_nat(isolated, teams_of(isolated), *h.hv, "hyperv://").ok());
    CHECK(h.host->calls.empty());
  }
}
