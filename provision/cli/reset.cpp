#include <fmt/format.h>

#include "provision/cli/converge.hpp"
#include "provision/cli/identity.hpp"
#include "provision/plan/conflicts.hpp"

namespace labctl::cli {

namespace {

struct ResetArgs {
  std::string team;
  std::string vm;
  ConvergeOptions options;
};

std::vector<const model::Vm*> vms_of(const model::Team& team, const std::string& key) {
  std::vector<const model::Vm*> vms;
  for (const model::Vm& vm : team.vms) {
    if (key.empty() || vm.key == key) {
      vms.push_back(&vm);
    }
  }
  return vms;
}

// Plans the reset against the host, refuses its conflicts (adopting under --adopt), applies.
Status reset_on_host(const GlobalOptions& global, model::Lab& lab, const sys::StateDir& state,
                     hv::Hypervisor& hypervisor, const ResetArgs& args, sys::Reporter& reporter) {
  auto identity = claim_identity(lab, state, args.options.adopt);
  auto inventory =
      identity ? hypervisor.inventory(lab.classroom) : Result<hv::Inventory>(identity.error());
  if (!inventory) {
    return inventory.error();
  }
  lab.identity = *identity;
  const plan::Plan plan = plan::plan_reset(lab, *inventory, args.team, args.vm);
  if (auto st = plan::refuse_conflicts(plan.conflicts, hypervisor.uri(), args.options.adopt); !st) {
    return st;
  }
  if (auto st =
          args.options.adopt ? adopt_objects(lab, hypervisor, *inventory, reporter) : Status();
      !st) {
    return st;
  }
  return apply_plan(global, lab, state, hypervisor, plan, args.options, reporter);
}

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
  const std::vector<const model::Vm*> vms = vms_of(*team, args.vm);
  if (vms.empty()) {
    return Error::usage(fmt::format("{}: team {} has no VM '{}'", lab->file, args.team, args.vm));
  }
  auto state = sys::StateDir::open(lab->classroom);
  auto hypervisor = connect(host_uri(global, *lab, team));
  if (!state || !hypervisor) {
    return !state ? state.error() : hypervisor.error();
  }
  install_stop_handlers();
  auto reporter = reporter_for(global);
  if (auto st = reset_on_host(global, *lab, *state, **hypervisor, args, *reporter); !st) {
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
  sub->add_flag("--adopt", args->options.adopt,
                "Take over the classroom's objects that carry another identity (as `up --adopt`)");
  sub->callback([r, args] { r.command = [r, args] { return run_reset(r.global, *args); }; });
}

}  // namespace labctl::cli
