#include <fmt/format.h>

#include "provision/cli/converge.hpp"
#include "provision/converge/reset.hpp"

namespace labctl::cli {

namespace {

struct ResetArgs {
  std::string team;
  std::string vm;
  ConvergeOptions options;
};

Status run_reset(const GlobalOptions& global, const ResetArgs& args) {
  auto lab = load(global);
  if (!lab) {
    return lab.error();
  }
  auto scope = scope_of(*lab, {args.team}, false);
  if (!scope) {
    return scope.error();
  }
  // Before the lock: a VM the team has not is a usage error, and takes no lock.
  if (auto vms = converge::reset_targets(*lab, *lab->find_team(args.team), args.vm); !vms) {
    return vms.error();
  }
  auto lock = lock_classroom(
      global, *lab,
      fmt::format("labctl reset {}{}", args.team, args.vm.empty() ? "" : " " + args.vm));
  if (!lock) {
    return lock.error();
  }
  install_stop_handlers();
  auto reporter = reporter_for(global);
  auto results = converge::reset_vms(*lab, hosts_of(global), args.team, args.vm,
                                     session_options(args.options), *reporter);
  if (!results) {
    return results.error();
  }
  if (args.options.no_wait) {
    return {};
  }
  reporter->finish();
  return summarize(global, *results);
}

}  // namespace

void add_reset(Registry r) {
  auto* sub = r.app.add_subcommand(
      "reset", "Back to first boot: a team's VMs (or one) get a new disk and seed, then start");
  auto args = std::make_shared<ResetArgs>();
  sub->add_option("TEAM", args->team, "Team")->required();
  sub->add_option("VM", args->vm, "One VM of the team (default: all)");
  sub->add_flag("--no-wait", args->options.no_wait, "Do not wait for the guests to be ready");
  sub->add_flag("--adopt", args->options.adopt,
                "Take over the classroom's objects that carry another identity (as `up --adopt`)");
  sub->callback([r, args] { r.command = [r, args] { return run_reset(r.global, *args); }; });
}

}  // namespace labctl::cli
