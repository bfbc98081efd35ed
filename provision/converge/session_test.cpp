// The converge session against libvirt's test driver (test:///default): what `up` refuses
// before anything changes. [libvirt] tier.

#include "provision/converge/session.hpp"

#include <catch2/catch.hpp>

#include "tests/support/labs.hpp"

namespace model = labctl::model;
namespace converge = labctl::converge;

namespace {

std::vector<converge::HostTeams> on_test_driver(const model::Lab& lab) {
  converge::HostTeams host{"test:///default", {}};
  for (const model::Team& team : lab.teams) {
    host.teams.push_back(&team);
  }
  return {host};
}

}  // namespace

// The test driver reports 3MiB free: any VM's memory cap is more than that.
TEST_CASE(
    "up's capacity refusal: a plan that does not fit is refused before any change, "
    "unless --force",
    "[libvirt]") {
  model::Lab lab = labctl::testing::small_lab("lctcp", 1, 1);
  lab.identity = "0123456789abcdef0123456789abcdef";
  SECTION("refused, naming the host's figures and the way out") {
    converge::Session session(lab, {});
    const auto hosts = session.prepare_up(on_test_driver(lab), true);
    REQUIRE_FALSE(hosts.ok());
    CHECK_THAT(hosts.error().message, Catch::StartsWith("up refused, nothing was changed:\n  "));
    CHECK_THAT(hosts.error().message,
               Catch::Contains("of memory (their caps); test:///default has"));
    CHECK_THAT(hosts.error().message,
               Catch::EndsWith("Bring fewer teams up, add a host, or give --force"));
  }
  SECTION("--force overcommits: the host's work is planned, nothing applied yet") {
    converge::Session session(lab, {.force = true});
    const auto hosts = session.prepare_up(on_test_driver(lab), true);
    REQUIRE(hosts.ok());
    REQUIRE(hosts->size() == 1);
    CHECK(hosts->front().uri == "test:///default");
    CHECK_FALSE(hosts->front().plan.empty());
    CHECK(hosts->front().inventory.find(labctl::hv::ObjectKind::domain, lab.teams[0].vms[0].name) ==
          nullptr);
  }
}

TEST_CASE("a session connects to each host once", "[libvirt]") {
  model::Lab lab = labctl::testing::small_lab("lctcn", 1, 1);
  int opened = 0;
  converge::Session session(lab, {}, [&](const std::string& uri) {
    ++opened;
    return labctl::hv::open_hypervisor(uri);
  });
  auto first = session.hypervisor("test:///default");
  auto second = session.hypervisor("test:///default");
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  CHECK(*first == *second);
  CHECK(opened == 1);
}
