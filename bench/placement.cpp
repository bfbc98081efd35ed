// Placement and plan over several hosts on libvirt's in-process test driver: labs/classroom.yaml
// with 100 teams x 4 VMs (8GiB a team) over 5 hosts of 128-256GiB, each its own
// test:///DIR/hostN.xml world. Times what `labctl plan --all` and `up --all` do before they
// apply: read every host's facts (host_info + inventory), place the teams, then inventory and
// plan each host's teams. Once on empty hosts, once more after applying everything (the
// placement recorded, every team already there); then down --all on each host.
//
//   build/dev/bench_placement [TEAMS] [HOSTS]      (defaults: 100 teams, 5 hosts)

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <stdlib.h>

#include <fmt/format.h>

#include "provision/model/loader.hpp"
#include "provision/plan/placement.hpp"
#include "tests/support/libvirt_hosts.hpp"

namespace {

using namespace labctl;
using Clock = std::chrono::steady_clock;
using labctl::testing::TestHost;

constexpr model::Bytes k_gib = model::Bytes(1) << 30;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

Result<model::Lab> classroom(int teams, const std::vector<TestHost>& hosts) {
  std::ifstream in(std::string(LABCTL_SOURCE_DIR) + "/labs/classroom.yaml");
  std::ostringstream text;
  text << in.rdbuf();
  std::string yaml = text.str();
  std::string listed = "hosts:\n";
  for (const TestHost& host : hosts) {
    listed += fmt::format("  - {{ uri: \"{}\", reserve: 4GiB }}\n", host.uri);
  }
  for (auto [from, to] :
       {std::pair<std::string, std::string>{"image:\n", listed + "image:\n"},
        {"  count: 4\n", fmt::format("  count: {}\n", teams)},
        {"  disk: 10GiB\n", "  disk: 256MiB\n"},
        // "cd26-team100-lan" would be 16 characters: Linux stops at 15.
        {"kind: nat }", "kind: nat, bridge_name: \"{classroom}{team_index}{net}\" }"},
        {"kind: isolated }", "kind: isolated, bridge_name: \"{classroom}{team_index}{net}\" }"}}) {
    const std::size_t at = yaml.find(from);
    if (at == std::string::npos) {
      return Error::failure("labs/classroom.yaml: no `" + from + "` to replace");
    }
    yaml.replace(at, from.size(), to);
  }
  return model::parse_lab(yaml, "classroom.yaml");
}

struct Pass {
  double facts_ms = 0;
  double place_ms = 0;
  double plan_ms = 0;  // inventory + plan_up of each host's teams
  std::size_t actions = 0;
  std::map<std::string, plan::Plan> plans;  // by host URI
  plan::Placement placement;
};

// What `plan --all` does: facts of every host, placement, then a plan per host.
Result<Pass> plan_all(const model::Lab& lab, std::vector<TestHost>& hosts,
                      const plan::Placement& previous) {
  Pass pass;
  auto start = Clock::now();
  plan::PlacementInput input{plan::team_demands(lab, {{}, true}, previous), {}, previous, ""};
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    input.hosts.push_back(plan::host_facts(lab.hosts[i], hosts[i].hv->host_info(),
                                           hosts[i].hv->inventory(lab.classroom)));
  }
  pass.facts_ms = ms_since(start);
  start = Clock::now();
  auto placed = plan::place_teams(input);
  pass.place_ms = ms_since(start);
  if (!placed) {
    return placed.error();
  }
  pass.placement = *placed;
  start = Clock::now();
  for (TestHost& host : hosts) {
    plan::Scope scope;
    for (const auto& [team, uri] : pass.placement) {
      if (uri == host.uri) {
        scope.teams.push_back(team);
      }
    }
    auto inventory = host.hv->inventory(lab.classroom);
    if (!inventory) {
      return inventory.error();
    }
    pass.plans[host.uri] = plan::plan_up(lab, *inventory, scope);
    pass.actions += pass.plans[host.uri].actions.size();
  }
  pass.plan_ms = ms_since(start);
  return pass;
}

bool apply_each(const model::Lab& lab, std::vector<TestHost>& hosts,
                const std::map<std::string, plan::Plan>& plans, apply::Materializer& files) {
  auto reporter = sys::make_reporter(sys::ReportStyle::quiet);
  for (TestHost& host : hosts) {
    const apply::Outcome outcome =
        apply::apply(lab, plans.at(host.uri), *host.hv, files, *reporter, {});
    for (const std::string& error : outcome.errors) {
      std::fprintf(stderr, "bench_placement: %s\n", error.c_str());
    }
    if (!outcome.ok()) {
      return false;
    }
  }
  return true;
}

void print(const std::string& title, const Pass& pass, const model::Lab& lab) {
  const double total = pass.facts_ms + pass.place_ms + pass.plan_ms;
  fmt::print("{}\n", title);
  fmt::print("  {:<34} {:9.1f} ms\n", "facts (host_info + inventory)", pass.facts_ms);
  fmt::print("  {:<34} {:9.1f} ms\n", fmt::format("placement ({} teams)", pass.placement.size()),
             pass.place_ms);
  fmt::print("  {:<34} {:9.1f} ms\n", fmt::format("plans ({} actions)", pass.actions),
             pass.plan_ms);
  fmt::print("  {:<34} {:9.1f} ms   target < 200 ms: {}\n", "total", total,
             total < 200 ? "ok" : "OVER");
  for (const auto& host : lab.hosts) {
    int teams = 0;
    for (const auto& [team, uri] : pass.placement) {
      teams += uri == host.uri ? 1 : 0;
    }
    fmt::print("  {:<34} {:3} teams\n", std::filesystem::path(host.uri).filename().string(), teams);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const int teams = argc > 1 ? std::atoi(argv[1]) : 100;
  const int host_count = argc > 2 ? std::atoi(argv[2]) : 5;
  std::string dir_template =
      (std::filesystem::temp_directory_path() / "lct-bench-placement.XXXXXX").string();
  if (::mkdtemp(dir_template.data()) == nullptr) {
    std::perror("bench_placement: mkdtemp");
    return 1;
  }
  const std::filesystem::path dir = dir_template;
  std::vector<TestHost> hosts;
  for (int i = 0; i < host_count; ++i) {
    auto host = labctl::testing::open_test_host(dir, fmt::format("host{}", i + 1),
                                                model::Bytes(128 + 32 * i) * k_gib, 0);
    if (!host) {
      std::fprintf(stderr, "bench_placement: %s\n", host.error().message.c_str());
      return 1;
    }
    hosts.push_back(std::move(*host));
  }
  auto lab = classroom(teams, hosts);
  auto fresh = lab ? plan_all(*lab, hosts, {}) : Result<Pass>(lab.error());
  labctl::testing::FileMaterializer files(dir);
  bool ok = fresh && apply_each(*lab, hosts, fresh->plans, files);
  auto again = ok ? plan_all(*lab, hosts, fresh->placement) : Result<Pass>(Error::failure(""));
  if (!fresh || !again) {
    std::fprintf(stderr, "bench_placement: %s\n",
                 (!fresh ? fresh.error() : again.error()).message.c_str());
    std::filesystem::remove_all(dir);
    return 1;
  }
  fmt::print("placement: {} teams x 4 VMs over {} test-driver hosts\n", teams, host_count);
  print("empty hosts (plan --all before the first up):", *fresh, *lab);
  print("after up --all (every team placed and present):", *again, *lab);
  for (TestHost& host : hosts) {
    auto inventory = host.hv->inventory(lab->classroom);
    const plan::Plan down = plan::plan_down(*lab, inventory.value(), {{}, true});
    ok = ok &&
         apply::apply(*lab, down, *host.hv, files, *sys::make_reporter(sys::ReportStyle::quiet), {})
             .ok();
  }
  std::filesystem::remove_all(dir);
  return ok ? 0 : 1;
}
