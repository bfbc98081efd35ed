#include <fmt/format.h>

#include "provision/cli/converge.hpp"

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
  auto lock = lock_classroom(
      global, *lab,
      fmt::format("labctl reset {}{}", args.team, args.vm.empty() ? "" : " " + args.vm));
  if (!lock) {
    return lock.error();
  }
  auto state = sys::StateDir::open(lab->classroom);
  if (!state) {
    return state.error();
  }
  install_stop_handlers();
  auto reporter = reporter_for(global);
  converge::Session session(*lab, session_options(args.options));
  session.use_state(*state);
  session.report_to(*reporter);
  auto uri = converge::host_uri(hosts_of(global), *lab, team);
  auto results = uri ? session.reset(*uri, *team, args.vm, vms)
                     : Result<std::vector<ready::VmReadiness>>(uri.error());
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
