// Plan and apply at scale on libvirt's in-process test driver: labs/classroom.yaml with
// 50 teams x 4 VMs (100 networks, 403 volumes, 200 domains), through the real planner, apply
// engine and libvirt backend. Times the plan of a fresh `up --all`, its apply, and a second
// `up --all` (inventory + plan + apply of the empty plan); then `down --all`. Disks are
// 256MiB instead of 10GiB: the test driver's pools hold 100GiB and count an overlay as fully
// allocated.
//
//   build/dev/bench_plan_apply [TEAMS] [JOBS]      (defaults: 50 teams, jobs = cores)
//
// The test driver cannot upload volumes: TestDriverHypervisor makes them empty at the local
// file's size after the real upload is refused (tests/support/libvirt_test_driver.hpp).

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include <stdlib.h>

#include <fmt/format.h>

#include "provision/apply/apply.hpp"
#include "provision/model/loader.hpp"
#include "provision/plan/plan.hpp"
#include "tests/support/libvirt_test_driver.hpp"
#include "tests/support/materializer.hpp"

namespace {

using namespace labctl;
using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

Result<model::Lab> classroom(int teams) {
  std::ifstream in(std::string(LABCTL_SOURCE_DIR) + "/labs/classroom.yaml");
  std::ostringstream text;
  text << in.rdbuf();
  std::string yaml = text.str();
  const std::string count = "  count: 4\n";
  const std::size_t at = yaml.find(count);
  if (at == std::string::npos) {
    return Error::failure("labs/classroom.yaml: no `count: 4` to replace");
  }
  yaml.replace(at, count.size(), fmt::format("  count: {}\n", teams));
  // The test driver's pools hold 100GiB and count an overlay as fully allocated.
  const std::string disk = "  disk: 10GiB\n";
  if (const std::size_t d = yaml.find(disk); d != std::string::npos) {
    yaml.replace(d, disk.size(), "  disk: 256MiB\n");
  }
  return model::parse_lab(yaml, "classroom.yaml");
}

struct Figures {
  std::size_t actions = 0;
  double plan_ms = 0;
  double apply_ms = 0;
  double second_inventory_ms = 0;
  double second_plan_ms = 0;
  double second_apply_ms = 0;
  std::size_t second_actions = 0;
  double down_ms = 0;
};

bool timed_apply(const model::Lab& lab, const plan::Plan& plan, hv::Hypervisor& hv,
                 apply::Materializer& files, const apply::Options& options, double& ms) {
  auto reporter = sys::make_reporter(sys::ReportStyle::quiet);
  const auto start = Clock::now();
  const apply::Outcome outcome = apply::apply(lab, plan, hv, files, *reporter, options);
  ms = ms_since(start);
  for (const std::string& error : outcome.errors) {
    std::fprintf(stderr, "bench_plan_apply: %s\n", error.c_str());
  }
  return outcome.ok();
}

// Fresh up (plan timed alone), then a second up, then down --all.
bool run(const model::Lab& lab, hv::Hypervisor& hv, apply::Materializer& files,
         const apply::Options& options, Figures& f) {
  auto start = Clock::now();
  const plan::Plan fresh = plan::plan_up(lab, {}, {.all = true});
  f.plan_ms = ms_since(start);
  f.actions = fresh.actions.size();
  if (!timed_apply(lab, fresh, hv, files, options, f.apply_ms)) {
    return false;
  }
  start = Clock::now();
  auto inv = hv.inventory(lab.classroom);
  f.second_inventory_ms = ms_since(start);
  if (!inv) {
    std::fprintf(stderr, "bench_plan_apply: %s\n", inv.error().message.c_str());
    return false;
  }
  start = Clock::now();
  const plan::Plan again = plan::plan_up(lab, *inv, {.all = true});
  f.second_plan_ms = ms_since(start);
  f.second_actions = again.actions.size();
  if (!timed_apply(lab, again, hv, files, options, f.second_apply_ms)) {
    return false;
  }
  const plan::Plan down = plan::plan_down(lab, hv.inventory(lab.classroom).value(), {.all = true});
  return timed_apply(lab, down, hv, files, options, f.down_ms);
}

void line(const std::string& label, double ms, const std::string& target) {
  fmt::print("  {:<36} {:9.1f} ms{}\n", label, ms, target.empty() ? "" : "   " + target);
}

std::string against(double ms, double target_ms) {
  return fmt::format("target < {} ms: {}", target_ms, ms < target_ms ? "ok" : "OVER");
}

void print(const Figures& f, int teams, int jobs) {
  const double second = f.second_inventory_ms + f.second_plan_ms + f.second_apply_ms;
  fmt::print("plan_apply: {} teams x 4 VMs on test:///default, jobs {}\n", teams, jobs);
  line(fmt::format("plan (fresh up --all, {} actions)", f.actions), f.plan_ms,
       against(f.plan_ms, 100));
  line("apply (fresh up --all)", f.apply_ms, against(f.apply_ms, 5000));
  line(fmt::format("second up --all ({} actions)", f.second_actions), second,
       against(second, 1000));
  line("  inventory", f.second_inventory_ms, "");
  line("  plan", f.second_plan_ms, "");
  line("  apply", f.second_apply_ms, "");
  line("down --all (no target)", f.down_ms, "");
}

}  // namespace

int main(int argc, char** argv) {
  const int teams = argc > 1 ? std::atoi(argv[1]) : 50;
  auto lab = classroom(teams);
  auto real =
      hv::libvirt::LibvirtHypervisor::open("test:///default", {.pool_root = "/lct-bench-pools"});
  if (!lab || !real) {
    std::fprintf(stderr, "bench_plan_apply: %s\n",
                 (!lab ? lab.error() : real.error()).message.c_str());
    return 1;
  }
  labctl::testing::TestDriverHypervisor hv(**real);
  std::string dir_template =
      (std::filesystem::temp_directory_path() / "lct-bench-plan-apply.XXXXXX").string();
  if (::mkdtemp(dir_template.data()) == nullptr) {
    std::perror("bench_plan_apply: mkdtemp");
    return 1;
  }
  const std::filesystem::path dir = dir_template;
  testing::FileMaterializer files(dir);
  apply::Options options;
  options.jobs = argc > 2 ? std::atoi(argv[2]) : 0;
  Figures figures;
  const bool ok = run(*lab, hv, files, options, figures);
  std::filesystem::remove_all(dir);
  if (!ok) {
    return 1;
  }
  print(figures, teams, options.jobs > 0 ? options.jobs : int(std::thread::hardware_concurrency()));
  return 0;
}
