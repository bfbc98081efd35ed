#include <fmt/format.h>

#include "provision/apply/guest.hpp"
#include "provision/cli/converge.hpp"

namespace labctl::cli {

namespace {

struct UpArgs {
  std::vector<std::string> teams;
  bool all = false;
  ConvergeOptions options;
};

Status converge_host(const GlobalOptions& global, const model::Lab& lab, const sys::StateDir& state,
                     const std::string& uri, const std::vector<const model::Team*>& teams,
                     const UpArgs& args, sys::Reporter& reporter,
                     std::vector<ready::VmReadiness>& results) {
  plan::Scope scope;
  for (const model::Team* team : teams) {
    scope.teams.push_back(team->name);
  }
  scope.all = args.all && teams.size() == lab.teams.size();
  if (args.options.dry_run) {
    return plan_host(global, lab, uri, scope);
  }
  auto hypervisor = connect(uri);
  if (!hypervisor) {
    return hypervisor.error();
  }
  auto inventory = (*hypervisor)->inventory(lab.classroom);
  if (!inventory) {
    return inventory.error();
  }
  const plan::Plan plan = plan::plan_up(lab, *inventory, scope);
  if (auto st = check_capacity(lab, plan, **hypervisor, uri, args.options.force); !st) {
    return st;
  }
  if (auto st = check_subnets(lab, teams, **hypervisor, uri); !st) {
    return st;
  }
  if (auto st = hv::check_host_setup(uri, teams); !st) {
    return st;
  }
  reporter.report({"", "", "host " + uri, sys::EventState::info,
                   fmt::format("{} actions; accelerator {}", plan.actions.size(),
                               choose_accelerator(lab, (*hypervisor)->capabilities()))});
  if (auto st = apply_plan(global, lab, state, **hypervisor, plan, args.options, reporter); !st) {
    return st;
  }
  std::vector<sys::KnownHost> known;
  std::vector<const model::Vm*> vms;
  for (const model::Team* team : teams) {
    for (const model::Vm& vm : team->vms) {
      vms.push_back(&vm);
      for (const model::Nic& nic : vm.nics) {
        if (!nic.ip.empty()) {
          known.push_back({nic.ip, vm.name});
        }
      }
    }
  }
  if (auto st = state.write_known_hosts(known); !st) {
    return st;
  }
  if (!args.options.no_wait) {
    std::vector<ready::VmReadiness> host_results;
    bring_up_guests(global, lab, state, **hypervisor, vms, args.options, reporter, host_results);
    results.insert(results.end(), host_results.begin(), host_results.end());
  }
  return {};
}

Status run_up(const GlobalOptions& global, const UpArgs& args) {
  auto lab = load(global);
  if (!lab) {
    return lab.error();
  }
  auto scope = scope_of(*lab, args.teams, args.all);
  if (!scope) {
    return scope.error();
  }
  // A dry run reads only: it creates no state directory.
  auto state = args.options.dry_run ? sys::StateDir::open_read_only(lab->classroom)
                                    : sys::StateDir::open(lab->classroom);
  if (!state) {
    return state.error();
  }
  if (args.options.standin && !args.options.dry_run) {
    if (auto st = state->update_state([](nlohmann::json& s) { s["standin"] = true; }); !st) {
      return st;
    }
  }
  // Placed before anything is created; a dry run places without recording.
  auto placement = place_scope(global, *lab, *scope, args.options.force);
  if (!placement) {
    return placement.error();
  }
  if (auto st = args.options.dry_run ? Status() : record_placement(*state, *placement); !st) {
    return st;
  }
  GlobalOptions placed = global;
  placed.placement = std::move(*placement);
  install_stop_handlers();
  auto reporter = reporter_for(global);
  std::vector<ready::VmReadiness> results;
  std::string failures;
  for (const auto& [uri, teams] : teams_by_host(placed, *lab, *scope)) {
    if (auto st = converge_host(global, *lab, *state, uri, teams, args, *reporter, results); !st) {
      failures += fmt::format("\n  {}: {}", uri, st.error().message);
    }
  }
  reporter->finish();
  if (args.options.dry_run) {
    return failures.empty() ? Status() : Error::failure("dry run failed:" + failures);
  }
  Status summary = results.empty() ? Status() : summarize(global, results);
  if (!failures.empty()) {
    return Error::failure("up failed:" + failures +
                          (summary ? "" : "\n" + summary.error().message));
  }
  return summary;
}

}  // namespace

void add_up(Registry r) {
  auto* sub = r.app.add_subcommand(
      "up", "Converge teams: networks, disks, seeds, VMs, then wait for Docker and the stack");
  auto args = std::make_shared<UpArgs>();
  sub->add_option("TEAM", args->teams, "Teams to bring up");
  sub->add_flag("--all", args->all, "Every team of the classroom");
  sub->add_flag("--dry-run", args->options.dry_run,
                "Print the plan (and, for Hyper-V, the PowerShell) without changing anything");
  sub->add_flag("--force", args->options.force,
                "Overcommit: place and start teams even where their memory does not fit");
  sub->add_flag("--no-wait", args->options.no_wait, "Do not wait for the guests to be ready");
  sub->add_flag("--standin", args->options.standin,
                "Build stand-in Squash TM images inside the VMs (no registry reachable)");
  sub->add_option("-j,--jobs", args->options.jobs, "Parallel actions (default: cores)");
  sub->callback([r, args] { r.command = [r, args] { return run_up(r.global, *args); }; });
}

}  // namespace labctl::cli
