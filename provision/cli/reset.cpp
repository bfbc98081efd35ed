#include <fmt/format.h>

#include "provision/cli/converge.hpp"

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
  const model::Team* team = lab->find_team(args.team);
  std::vector<const model::Vm*> vms;
  for (const model::Vm& vm : team->vms) {
    if (args.vm.empty() || vm.key == args.vm) {
      vms.push_back(&vm);
    }
  }
  if (vms.empty()) {
    return Error::usage(fmt::format("{}: team {} has no VM '{}'", lab->file, args.team, args.vm));
  }
  auto state = sys::StateDir::open(lab->classroom);
  auto hypervisor = connect(host_uri(global, *lab, team));
  if (!state || !hypervisor) {
    return !state ? state.error() : hypervisor.error();
  }
  auto inventory = (*hypervisor)->inventory(lab->classroom);
  if (!inventory) {
    return inventory.error();
  }
  install_stop_handlers();
  auto reporter = reporter_for(global);
  const plan::Plan plan = plan::plan_reset(*lab, *inventory, args.team, args.vm);
  if (auto st = apply_plan(global, *lab, *state, **hypervisor, plan, args.options, *reporter);
      !st) {
    return st;
  }
  if (args.options.no_wait) {
    return {};
  }
  std::vector<ready::VmReadiness> results;
  bring_up_guests(global, *lab, *state, **hypervisor, vms, args.options, *reporter, results);
  reporter->finish();
  return summarize(global, results);
}

}  // namespace

void add_reset(Registry r) {
  auto* sub = r.app.add_subcommand(
      "reset", "Back to first boot: a team's VMs (or one) get a new disk and seed, then start");
  auto args = std::make_shared<ResetArgs>();
  sub->add_option("TEAM", args->team, "Team")->required();
  sub->add_option("VM", args->vm, "One VM of the team (default: all)");
  sub->add_flag("--no-wait", args->options.no_wait, "Do not wait for the guests to be ready");
  sub->callback([r, args] { r.command = [r, args] { return run_reset(r.global, *args); }; });
}

}  // namespace labctl::cli
