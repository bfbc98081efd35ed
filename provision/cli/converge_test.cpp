#include "provision/cli/converge.hpp"

#include <catch2/catch.hpp>

#include "tests/support/labs.hpp"

namespace model = labctl::model;

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
