#include "provision/plan/placement.hpp"

#include <catch2/catch.hpp>

#include "provision/model/loader.hpp"
#include "tests/support/golden.hpp"

namespace {

using namespace labctl;
using plan::HostFacts;
using plan::Placement;
using plan::PlacementInput;
using plan::TeamDemand;

constexpr model::Bytes k_gib = model::Bytes(1) << 30;

TeamDemand team(const std::string& name, int gib = 8, const std::string& pin = "") {
  return {name, model::Bytes(gib) * k_gib, gib / 2, pin};
}

HostFacts host(const std::string& uri, int total, int reserve = 0, int others = 0) {
  return {uri,
          model::Bytes(total) * k_gib,
          model::Bytes(others) * k_gib,
          model::Bytes(reserve) * k_gib,
          true,
          ""};
}

// a: 12GiB free after reserve and others, b: 28GiB, c: 8GiB.
std::vector<HostFacts> three_hosts() {
  return {host("test:///a", 16, 2, 2), host("test:///b", 32, 4), host("test:///c", 8)};
}

std::vector<TeamDemand> teams(int count, int gib = 8) {
  std::vector<TeamDemand> out;
  for (int i = 1; i <= count; ++i) {
    out.push_back(team("team" + std::to_string(i), gib));
  }
  return out;
}

Placement placed(const PlacementInput& input) {
  auto out = plan::place_teams(input);
  INFO((out ? "" : out.error().message));
  REQUIRE(out.ok());
  return *out;
}

}  // namespace

TEST_CASE("teams are placed by memory, most free first, ties by host order", "[unit]") {
  const PlacementInput input{teams(5), three_hosts(), {}, ""};
  // b 28 -> 20 -> 12; a 12 ties b 12 and comes first; b 12 -> 4; c 8 beats a 4 and b 4.
  CHECK(placed(input) == Placement{{"team1", "test:///b"},
                                   {"team2", "test:///b"},
                                   {"team3", "test:///a"},
                                   {"team4", "test:///b"},
                                   {"team5", "test:///c"}});
}

TEST_CASE("a team that fits nowhere is refused with the numbers", "[unit]") {
  auto out = plan::place_teams({teams(6), three_hosts(), {}, ""});
  REQUIRE_FALSE(out.ok());
  CHECK(out.error().kind == ErrorKind::failure);
  CHECK(out.error().message ==
        "cannot place team6: it needs 8GiB (4 VMs) and no host has that much free after its "
        "reserve: test:///a has 4GiB free (16GiB total, reserve 2GiB, 2GiB used by others, 8GiB "
        "by teams placed there); test:///b has 4GiB free (32GiB total, reserve 4GiB, 0B used by "
        "others, 24GiB by teams placed there); test:///c has 0B free (8GiB total, reserve 0B, 0B "
        "used by others, 8GiB by teams placed there). Add a host, give the teams less memory, "
        "bring fewer teams up, or give --force to overcommit");
}

TEST_CASE("with overcommit a team that fits nowhere goes to the roomiest reachable host",
          "[unit]") {
  PlacementInput input{teams(7), three_hosts(), {}, ""};
  input.overcommit = true;
  std::vector<std::string> notes;
  auto out = plan::place_teams(input, &notes);
  REQUIRE(out.ok());
  // After five teams a and b have 4GiB free, c 0B: team6 goes to a (ties: host order), which
  // then has -4GiB; team7 to b.
  CHECK(out->at("team6") == "test:///a");
  CHECK(out->at("team7") == "test:///b");
  REQUIRE(notes.size() == 2);
  CHECK(notes[0] ==
        "team6 overcommits test:///a: it needs 8GiB (4 VMs) and no host has that much free "
        "after its reserve: test:///a has 4GiB free (16GiB total, reserve 2GiB, 2GiB used by "
        "others, 8GiB by teams placed there); test:///b has 4GiB free (32GiB total, reserve "
        "4GiB, 0B used by others, 24GiB by teams placed there); test:///c has 0B free (8GiB "
        "total, reserve 0B, 0B used by others, 8GiB by teams placed there)");
  CHECK_THAT(notes[1], Catch::StartsWith("team7 overcommits test:///b: it needs 8GiB") &&
                           Catch::Contains("test:///a has -4GiB free"));

  SECTION("teams that fit are placed as without it, with no note") {
    input.teams = teams(5);
    notes.clear();
    CHECK(plan::place_teams(input, &notes).value() == placed({teams(5), three_hosts(), {}, ""}));
    CHECK(notes.empty());
  }
  SECTION("with no reachable host it still refuses") {
    for (HostFacts& h : input.hosts) {
      h.reachable = false;
      h.error = "cannot connect";
    }
    auto refused = plan::place_teams(input, &notes);
    REQUIRE_FALSE(refused.ok());
    CHECK_THAT(refused.error().message,
               Catch::StartsWith("cannot place team1: it needs 8GiB") &&
                   Catch::EndsWith("test:///c is unreachable (cannot connect). No host is "
                                   "reachable"));
  }
}

TEST_CASE("placed teams stay where they are", "[unit]") {
  const Placement before = placed({teams(5), three_hosts(), {}, ""});

  SECTION("adding a team moves no other team") {
    std::vector<TeamDemand> more = teams(5);
    more.push_back(team("team6", 4));
    Placement expected = before;
    expected["team6"] = "test:///a";  // a 4 ties b 4; a comes first
    CHECK(placed({more, three_hosts(), before, ""}) == expected);
  }
  SECTION("a team stays on a small host although a roomier one is listed") {
    const Placement out = placed({teams(2), three_hosts(), {{"team2", "test:///c"}}, ""});
    CHECK(out == Placement{{"team1", "test:///b"}, {"team2", "test:///c"}});
  }
  SECTION("a team whose host is no longer listed is placed again") {
    const Placement out = placed({teams(1), three_hosts(), {{"team1", "test:///gone"}}, ""});
    CHECK(out == Placement{{"team1", "test:///b"}});
  }
  SECTION("previous teams use their host's memory up first") {
    // team1..3 fill b (28GiB: 24GiB placed); the new team4 goes to a.
    const Placement previous{
        {"team1", "test:///b"}, {"team2", "test:///b"}, {"team3", "test:///b"}};
    CHECK(placed({teams(4), three_hosts(), previous, ""}).at("team4") == "test:///a");
  }
}

TEST_CASE("pins win over memory", "[unit]") {
  std::vector<TeamDemand> input = teams(3);
  input[0].pin = "test:///c";
  input[1].pin = "test:///c";  // c overcommitted: the capacity check of `up` reports it
  const Placement out = placed({input, three_hosts(), {{"team1", "test:///b"}}, ""});
  CHECK(out == Placement{{"team1", "test:///c"}, {"team2", "test:///c"}, {"team3", "test:///b"}});

  SECTION("a pin to a host that is not listed is a lab error") {
    input[2].pin = "qemu+ssh://elsewhere/system";
    auto refused = plan::place_teams({input, three_hosts(), {}, ""});
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().kind == ErrorKind::lab);
    CHECK(refused.error().message ==
          "team3 is pinned to host 'qemu+ssh://elsewhere/system', which is not in hosts:");
  }
}

TEST_CASE("unreachable hosts get no new team, keep their placed teams", "[unit]") {
  std::vector<HostFacts> hosts = three_hosts();
  hosts[1] = {"test:///b", 0, 0, 0, false, "cannot connect"};
  const Placement out = placed({teams(3), hosts, {{"team3", "test:///b"}}, ""});
  CHECK(out == Placement{{"team1", "test:///a"}, {"team2", "test:///c"}, {"team3", "test:///b"}});

  auto refused = plan::place_teams({teams(4), hosts, {{"team3", "test:///b"}}, ""});
  REQUIRE_FALSE(refused.ok());
  CHECK_THAT(refused.error().message, Catch::Contains("test:///b is unreachable (cannot connect)"));
}

TEST_CASE("placement is deterministic", "[unit]") {
  std::vector<HostFacts> hosts;
  for (int i = 0; i < 5; ++i) {
    hosts.push_back(host("test:///h" + std::to_string(i), 64 + 32 * (i % 3), 4, i));
  }
  const PlacementInput input{teams(30, 8), hosts, {}, ""};
  const Placement first = placed(input);
  CHECK(first.size() == 30);
  for (int run = 0; run < 3; ++run) {
    CHECK(placed(input) == first);
  }
}

TEST_CASE("without hosts every team goes to the default URI", "[unit]") {
  const Placement out = placed({teams(2), {}, {{"team1", "test:///b"}}, "qemu:///system"});
  CHECK(out == Placement{{"team1", "qemu:///system"}, {"team2", "qemu:///system"}});
}

TEST_CASE("demands and facts come from the lab, host_info and the inventory", "[unit]") {
  auto lab = model::load_lab((testing::source_dir() / "labs" / "multi-host.yaml").string());
  INFO((lab ? "" : lab.error().message));
  REQUIRE(lab.ok());

  SECTION("the scope's teams and those placed before, with their VMs' caps and pins") {
    const auto demands = plan::team_demands(*lab, {{"team3"}, false}, {{"team5", "x"}});
    REQUIRE(demands.size() == 2);
    CHECK(demands[0].team == "team3");
    CHECK(demands[0].pin == "qemu+ssh://labadmin@hv2.example.org/system");
    CHECK(demands[0].memory == 5 * k_gib);  // vm2 has 3GiB for its two instances
    CHECK(demands[0].vms == 2);
    CHECK(demands[1].team == "team5");
  }
  SECTION("memory used minus this classroom's running domains is used by others") {
    hv::Inventory inventory;
    inventory.objects.push_back(
        {hv::ObjectKind::domain, "d1", {}, hv::PowerState::running, 2 * k_gib});
    inventory.objects.push_back({hv::ObjectKind::domain, "d2", {}, hv::PowerState::off, 2 * k_gib});
    const hv::HostInfo info{"h", 16 * k_gib, 10 * k_gib, 4};
    const HostFacts facts = plan::host_facts(lab->hosts[0], info, inventory);
    CHECK(facts.total == 16 * k_gib);
    CHECK(facts.reserve == 2 * k_gib);
    CHECK(facts.used_by_others == 4 * k_gib);
    const HostFacts down =
        plan::host_facts(lab->hosts[1], Error::failure("no route to host"), inventory);
    CHECK_FALSE(down.reachable);
    CHECK(down.error == "no route to host");
  }
}
