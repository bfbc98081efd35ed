#include <set>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "provision/model/loader.hpp"
#include "provision/plan/placement.hpp"
#include "tests/support/golden.hpp"
#include "tests/support/libvirt_hosts.hpp"

// A classroom over three in-process libvirt hosts of different sizes: placed through each
// host's host_info() and inventory, applied host by host with the real planner and engine.

namespace {

using namespace labctl;
using labctl::testing::TestHost;

constexpr model::Bytes k_gib = model::Bytes(1) << 30;

void replace_once(std::string& text, const std::string& from, const std::string& to) {
  const std::size_t at = text.find(from);
  REQUIRE(at != std::string::npos);
  text.replace(at, from.size(), to);
}

// labs/classroom.yaml (4 VMs x 2GiB a team) with `count` teams on the given hosts.
model::Lab classroom(int count, const std::vector<TestHost>& hosts,
                     const std::vector<int>& reserves_gib) {
  std::string text = testing::read_file(testing::source_dir() / "labs" / "classroom.yaml");
  std::string listed = "hosts:\n";
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    const std::string reserve =
        reserves_gib[i] == 0 ? "" : fmt::format(", reserve: {}GiB", reserves_gib[i]);
    listed += fmt::format("  - {{ uri: \"{}\"{} }}\n", hosts[i].uri, reserve);
  }
  replace_once(text, "image:\n", listed + "\nimage:\n");
  replace_once(text, "  count: 4\n", fmt::format("  count: {}\n", count));
  replace_once(text, "  disk: 10GiB\n", "  disk: 1GiB\n");
  auto lab = model::parse_lab(text, "classroom.yaml");
  INFO((lab ? "" : lab.error().message));
  REQUIRE(lab.ok());
  return std::move(*lab);
}

hv::Inventory inventory_of(hv::Hypervisor& hv, const model::Lab& lab) {
  auto inv = hv.inventory(lab.classroom);
  INFO((inv ? "" : inv.error().message));
  REQUIRE(inv.ok());
  return std::move(*inv);
}

plan::Placement place(const model::Lab& lab, const std::vector<TestHost>& hosts,
                      const plan::Placement& previous) {
  plan::PlacementInput input{plan::team_demands(lab, {{}, true}, previous), {}, previous, ""};
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    input.hosts.push_back(plan::host_facts(lab.hosts[i], hosts[i].hv->host_info(),
                                           hosts[i].hv->inventory(lab.classroom)));
  }
  auto placed = plan::place_teams(input);
  INFO((placed ? "" : placed.error().message));
  REQUIRE(placed.ok());
  return *placed;
}

void apply_ok(const model::Lab& lab, const plan::Plan& plan, TestHost& host,
              apply::Materializer& files) {
  sys::RecordingReporter reporter;
  apply::Options options;
  options.jobs = 2;
  options.retry_delay = std::chrono::milliseconds(1);
  const apply::Outcome outcome = apply::apply(lab, plan, *host.hv, files, reporter, options);
  INFO(fmt::format("{}", fmt::join(outcome.errors, "\n")));
  REQUIRE(outcome.ok());
}

std::set<std::string> domains_of(const hv::Inventory& inv) {
  std::set<std::string> names;
  for (const hv::Object& object : inv.objects) {
    if (object.kind == hv::ObjectKind::domain) {
      names.insert(object.name);
    }
  }
  return names;
}

std::set<std::string> domains_of_teams(const std::vector<std::string>& teams) {
  std::set<std::string> names;
  for (const std::string& team : teams) {
    for (const char* vm : {"vm1", "vm2", "vm3", "vm4"}) {
      names.insert(fmt::format("cd26-{}-{}", team, vm));
    }
  }
  return names;
}

}  // namespace

TEST_CASE("a classroom placed over three libvirt hosts by their memory", "[libvirt]") {
  testing::ScratchDir dir("lct-place");
  std::vector<TestHost> hosts;
  // Free for the classroom: h1 24 - 2 reserve - 4 other-vm = 18GiB, h2 16GiB, h3 40 - 4 = 36GiB.
  for (auto [name, gib, foreign] : {std::tuple{"h1", 24, 4}, {"h2", 16, 0}, {"h3", 40, 0}}) {
    auto host = labctl::testing::open_test_host(dir.path(), name, gib * k_gib, foreign * k_gib);
    INFO((host ? "" : host.error().message));
    REQUIRE(host.ok());
    hosts.push_back(std::move(*host));
  }
  const model::Lab lab = classroom(5, hosts, {2, 0, 4});
  const auto [h1, h2, h3] = std::tuple{hosts[0].uri, hosts[1].uri, hosts[2].uri};

  // 8GiB a team: h3 36 -> 28 -> 20 -> 12 (20 beats h1's 18), h1 18 -> 10, h2 16 -> 8.
  const plan::Placement placed = place(lab, hosts, {});
  CHECK(placed ==
        plan::Placement{{"team1", h3}, {"team2", h3}, {"team3", h3}, {"team4", h1}, {"team5", h2}});

  labctl::testing::FileMaterializer files(dir.path());
  for (TestHost& host : hosts) {
    plan::Scope scope;
    for (const auto& [team, uri] : placed) {
      if (uri == host.uri) {
        scope.teams.push_back(team);
      }
    }
    apply_ok(lab, plan::plan_up(lab, inventory_of(*host.hv, lab), scope), host, files);
  }
  CHECK(domains_of(inventory_of(*hosts[0].hv, lab)) == domains_of_teams({"team4"}));
  CHECK(domains_of(inventory_of(*hosts[1].hv, lab)) == domains_of_teams({"team5"}));
  CHECK(domains_of(inventory_of(*hosts[2].hv, lab)) ==
        domains_of_teams({"team1", "team2", "team3"}));

  SECTION("a sixth team takes the roomiest host and moves nobody") {
    // Running now: the classroom's own domains count as placed, not as used by others.
    const model::Lab more = classroom(6, hosts, {2, 0, 4});
    plan::Placement expected = placed;
    expected["team6"] = h3;  // h3 12GiB, h1 10GiB, h2 8GiB
    CHECK(place(more, hosts, placed) == expected);
  }
  SECTION("down on each host leaves nothing tagged on any") {
    for (TestHost& host : hosts) {
      apply_ok(lab, plan::plan_down(lab, inventory_of(*host.hv, lab), {{}, true}), host, files);
    }
    for (TestHost& host : hosts) {
      CHECK(inventory_of(*host.hv, lab).objects.empty());
    }
  }
}

TEST_CASE("a classroom too big for its libvirt hosts is refused, or overcommitted when forced",
          "[libvirt]") {
  testing::ScratchDir dir("lct-force");
  std::vector<TestHost> hosts;
  for (auto [name, gib] : {std::tuple{"small", 8}, {"big", 12}}) {
    auto host = labctl::testing::open_test_host(dir.path(), name, gib * k_gib, 0);
    INFO((host ? "" : host.error().message));
    REQUIRE(host.ok());
    hosts.push_back(std::move(*host));
  }
  const model::Lab lab = classroom(3, hosts, {0, 0});
  // 8GiB a team: team1 to big (12 -> 4), team2 to small (8 -> 0), team3 fits nowhere.
  plan::PlacementInput input{plan::team_demands(lab, {{}, true}, {}), {}, {}, ""};
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    input.hosts.push_back(plan::host_facts(lab.hosts[i], hosts[i].hv->host_info(),
                                           hosts[i].hv->inventory(lab.classroom)));
  }
  auto refused = plan::place_teams(input);
  REQUIRE_FALSE(refused.ok());
  CHECK_THAT(refused.error().message,
             Catch::StartsWith("cannot place team3: it needs 8GiB (4 VMs)") &&
                 Catch::Contains(hosts[1].uri + " has 4GiB free (12GiB total") &&
                 Catch::EndsWith("or give --force to overcommit"));

  input.overcommit = true;
  std::vector<std::string> notes;
  auto forced = plan::place_teams(input, &notes);
  REQUIRE(forced.ok());
  CHECK(*forced ==
        plan::Placement{{"team1", hosts[1].uri}, {"team2", hosts[0].uri}, {"team3", hosts[1].uri}});
  REQUIRE(notes.size() == 1);
  CHECK_THAT(notes[0], Catch::StartsWith("team3 overcommits " + hosts[1].uri));

  // The overcommitted host takes both teams: the plan and apply do not look at memory.
  labctl::testing::FileMaterializer files(dir.path());
  apply_ok(lab, plan::plan_up(lab, inventory_of(*hosts[1].hv, lab), {{"team1", "team3"}, false}),
           hosts[1], files);
  CHECK(domains_of(inventory_of(*hosts[1].hv, lab)) == domains_of_teams({"team1", "team3"}));
}
