#include "provision/converge/reset.hpp"

#include <catch2/catch.hpp>

#include "tests/support/env.hpp"
#include "tests/support/golden.hpp"
#include "tests/support/labs.hpp"

using namespace labctl;

TEST_CASE("a reset takes every VM of the team, or the one named", "[unit]") {
  const model::Lab lab = testing::small_lab("lct", 2, 3);
  const model::Team& team = *lab.find_team("team2");

  SECTION("no key: every VM, in the team's order") {
    auto vms = converge::reset_targets(lab, team, "");
    REQUIRE(vms.ok());
    REQUIRE(vms->size() == 3);
    CHECK((*vms)[0] == &team.vms[0]);
    CHECK((*vms)[2] == &team.vms[2]);
  }
  SECTION("a key: that VM alone") {
    auto vms = converge::reset_targets(lab, team, "vm2");
    REQUIRE(vms.ok());
    REQUIRE(vms->size() == 1);
    CHECK((*vms)[0]->name == team.vms[1].name);
  }
  SECTION("a key the team has not: a usage error naming the lab file") {
    auto vms = converge::reset_targets(lab, team, "vm9");
    REQUIRE_FALSE(vms.ok());
    CHECK(vms.error().kind == ErrorKind::usage);
    CHECK(vms.error().message == "fixture.yaml: team team2 has no VM 'vm9'");
  }
}

TEST_CASE("a reset refused by its VM selection touches nothing", "[unit]") {
  testing::ScratchDir scratch("lct-reset");
  const testing::ScopedEnv root("LABCTL_STATE_DIR", (scratch.path() / "state").string());
  model::Lab lab = testing::small_lab("lct", 1, 1);
  converge::Options options;
  options.no_wait = true;
  auto reporter = sys::make_reporter(sys::ReportStyle::quiet);

  SECTION("no such VM") {
    auto results =
        converge::reset_vms(lab, {"test:///default", {}}, "team1", "vm9", options, *reporter);
    REQUIRE_FALSE(results.ok());
    CHECK(results.error().message == "fixture.yaml: team team1 has no VM 'vm9'");
  }
  SECTION("no such team") {
    auto results =
        converge::reset_vms(lab, {"test:///default", {}}, "team7", "", options, *reporter);
    REQUIRE_FALSE(results.ok());
    CHECK(results.error().kind == ErrorKind::usage);
  }
  CHECK_FALSE(std::filesystem::exists(scratch.path() / "state"));
}
