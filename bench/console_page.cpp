// The web console's page in a real browser (Debian's headless Chromium over WebDriver):
// a classroom of 10 teams x 4 VMs (40 VMs, 2 instances each) served by `labctl serve`'s parts
// in this process, the state directory in a temporary directory, nothing probed (the lab
// file and state.json alone: the page's cost, not the hosts'). Measures, ROUNDS times:
//   render: from the navigation's start to the page's first full drawing of the 40 VMs
//           (performance.now() at the page's "labctl:rendered" mark);
//   event:  from publishing a progress event in the server to the page's handler seeing it
//           (wall clocks of one machine).
// Targets (issue 17): render under 1 s, event under 1 s.
//
//   build/dev/bench_console_page [ROUNDS]      (default 10)

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "provision/model/loader.hpp"
#include "provision/sys/state.hpp"
#include "provision/web/server.hpp"
#include "tests/support/golden.hpp"
#include "tests/support/webdriver.hpp"

namespace {

using namespace labctl;

const char* const k_lab = R"(classroom: bw
title: "40 VMs"
image: { build: debian-12, with: [docker], boot: efi }
defaults: { memory: 2GiB, disk: 4GiB }
teams: { count: 10 }
template:
  networks:
    lan: { kind: nat }
  vms:
    vm1: { instances: [{ name: main, version: 6.0.0 }, { name: next, version: 6.1.0 }] }
    vm2: { instances: [{ name: main, version: 6.0.0 }, { name: next, version: 6.1.0 }] }
    vm3: { instances: [{ name: main, version: 6.0.0 }, { name: next, version: 6.1.0 }] }
    vm4: { instances: [{ name: main, version: 6.0.0 }, { name: next, version: 6.1.0 }] }
squashtm: { memory: 512MiB }
)";

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values.empty() ? 0 : values[values.size() / 2];
}

double wall_ms() {
  return static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count()) /
         1000.0;
}

int fail(const std::string& what) {
  std::fprintf(stderr, "bench_console_page: %s\n", what.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::max(1, std::atoi(argv[1])) : 10;
  if (auto missing = testing::browser_missing()) {
    std::printf("SKIPPED: %s\n", missing->c_str());
    return 0;
  }
  testing::ScratchDir scratch("lct-bench-console");
  ::setenv("LABCTL_STATE_DIR", (scratch.path() / "state").c_str(), 1);
  ::setenv("LABCTL_REGISTRY", "http://127.0.0.1:9", 1);
  ::setenv("LABCTL_UPSTREAM", "http://127.0.0.1:9", 1);
  auto lab = model::parse_lab(k_lab, (scratch.path() / "lab.yaml").string());
  if (!lab) {
    return fail(lab.error().message);
  }
  auto state = sys::StateDir::open(lab->classroom);
  std::vector<std::string> teams;
  for (const model::Team& team : lab->teams) {
    teams.push_back(team.name);
  }
  auto access = state ? web::Access::open(*state, teams) : Result<web::Access>(state.error());
  if (!access) {
    return fail(access.error().message);
  }
  web::EventHub hub;
  web::ConsoleOptions options;
  options.hosts.connect = "test:///default";
  options.probe = false;
  options.refresh = std::chrono::seconds(3600);
  web::Console console(*lab, options, hub);
  web::Server server(console, *access, hub);
  auto port = server.bind({"127.0.0.1", 0, "", ""});
  if (!port) {
    return fail(port.error().message);
  }
  console.start();
  std::thread serving([&] { server.run(); });
  auto browser = testing::Browser::start();
  if (!browser) {
    server.stop();
    serving.join();
    return fail(browser.error().message);
  }
  const std::string login = server.base_url() + "/login?token=" + access->instructor_token();
  std::vector<double> render, event;
  for (int round = 0; round < rounds; ++round) {
    if (auto st = (*browser)->go(login); !st) {
      return fail(st.error().message);
    }
    if (auto st = (*browser)->wait_for("performance.getEntriesByName('labctl:rendered').length > 0 "
                                       "&& window.labctlListening === true");
        !st) {
      return fail(st.error().message);
    }
    auto rows = (*browser)->count("tr.vm-row");
    if (!rows || *rows != 40) {
      return fail("the page does not show 40 VMs");
    }
    auto at =
        (*browser)->script("return performance.getEntriesByName('labctl:rendered')[0].startTime");
    render.push_back(at ? at->get<double>() : -1);

    const std::string subject = fmt::format("bench {}", round);
    const double sent = wall_ms();
    hub.publish("progress", {{"team", "team1"},
                             {"vm", "vm1"},
                             {"subject", subject},
                             {"state", "info"},
                             {"message", ""},
                             {"seconds", 0},
                             {"action", 0}});
    const std::string seen =
        "window.labctlLastEvent && window.labctlLastEvent.subject === '" + subject + "'";
    if (auto st = (*browser)->wait_for(seen); !st) {
      return fail(st.error().message);
    }
    auto received = (*browser)->script("return window.labctlLastEvent.at");
    event.push_back(received ? received->get<double>() - sent : -1);
  }
  server.stop();
  serving.join();
  console.stop();
  std::printf("console page, 40 VMs, %d rounds (headless Chromium, this machine)\n", rounds);
  std::printf("  render: median %.0f ms, max %.0f ms (target < 1000 ms)\n", median(render),
              *std::max_element(render.begin(), render.end()));
  std::printf("  event:  median %.1f ms, max %.1f ms (target < 1000 ms)\n", median(event),
              *std::max_element(event.begin(), event.end()));
  return 0;
}
