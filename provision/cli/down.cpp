#include <unistd.h>

#include <algorithm>
#include <iostream>

#include <fmt/format.h>

#include "provision/cli/converge.hpp"
#include "provision/cli/identity.hpp"
#include "provision/plan/conflicts.hpp"

namespace labctl::cli {

namespace {

struct DownArgs {
  std::vector<std::string> teams;
  bool all = false;
  bool yes = false;
  bool adopt = false;
};

bool confirmed(const plan::Plan& plan, bool yes) {
  if (yes) {
    return true;
  }
  if (::isatty(0) == 0) {
    return false;
  }
  fmt::print(stderr, "Delete these {} objects? [y/N] ", plan.actions.size());
  std::string answer;
  std::getline(std::cin, answer);
  return answer == "y" || answer == "Y" || answer == "yes";
}

// --all also reaches every listed host that holds no team now (a team removed from the
// file, a placement that moved): only tagged objects are deleted there.
std::vector<std::pair<std::string, std::vector<const model::Team*>>> hosts_to_visit(
    const GlobalOptions& global, const model::Lab& lab, const plan::Scope& scope, bool all) {
  auto groups = teams_by_host(global, lab, scope);
  const auto visited = [&](const std::string& uri) {
    return std::any_of(groups.begin(), groups.end(), [&](const auto& g) { return g.first == uri; });
  };
  if (all && global.connect.empty()) {
    for (const model::Host& host : lab.hosts) {
      if (!visited(host.uri)) {
        groups.push_back({host.uri, {}});
      }
    }
  }
  if (all && groups.empty()) {
    groups.push_back({host_uri(global, lab), {}});
  }
  return groups;
}

Status run_down(const GlobalOptions& global, const DownArgs& args) {
  auto lab = load(global);
  if (!lab) {
    return lab.error();
  }
  auto scope = scope_of(*lab, args.teams, args.all);
  if (!scope) {
    return scope.error();
  }
  auto identity = read_identity(*lab, args.adopt);
  if (!identity) {
    return identity.error();
  }
  lab->identity = *identity;
  auto state = sys::StateDir::open(lab->classroom);
  if (!state) {
    return state.error();
  }
  const auto groups = hosts_to_visit(global, *lab, *scope, args.all);
  install_stop_handlers();
  auto reporter = reporter_for(global);
  std::string failures;
  for (const auto& [uri, teams] : groups) {
    auto hypervisor = connect(uri);
    auto inventory = hypervisor ? (*hypervisor)->inventory(lab->classroom)
                                : Result<hv::Inventory>(hypervisor.error());
    if (!inventory) {
      failures += fmt::format("\n  {}: {}", uri, inventory.error().message);
      continue;
    }
    const plan::Plan plan = plan::plan_down(*lab, *inventory, *scope);
    // Another lab file's objects (same classroom name) are not this one's to delete.
    if (auto st = plan::refuse_conflicts(plan.conflicts, uri, args.adopt); !st) {
      print_plan(global, plan, args.adopt);
      failures += "\n  " + st.error().message;
      continue;
    }
    if (plan.empty()) {
      fmt::print("{}: nothing of classroom {} to delete.\n", uri, lab->classroom);
      continue;
    }
    print_plan(global, plan);
    if (!confirmed(plan, args.yes)) {
      return Error::usage("not confirmed: nothing deleted (give --yes when not on a terminal)");
    }
    if (auto st = apply_plan(global, *lab, *state, **hypervisor, plan, {}, *reporter); !st) {
      failures += fmt::format("\n  {}: {}", uri, st.error().message);
    }
  }
  reporter->finish();
  if (!failures.empty()) {
    return Error::failure("down failed:" + failures);
  }
  // The classroom's keys and secrets go last, once nothing on any host needs them.
  return args.all ? state->remove_all() : Status();
}

}  // namespace

void add_down(Registry r) {
  auto* sub = r.app.add_subcommand(
      "down", "Delete what labctl created for teams (tagged objects only), after asking");
  auto args = std::make_shared<DownArgs>();
  sub->add_option("TEAM", args->teams, "Teams to remove");
  sub->add_flag("--all", args->all, "The whole classroom, and its state directory last");
  sub->add_flag("-y,--yes", args->yes, "Do not ask");
  sub->add_flag("--adopt", args->adopt,
                "Also delete the classroom's objects that carry another identity (another lab "
                "file with this classroom name, or labctl before identities)");
  sub->callback([r, args] { r.command = [r, args] { return run_down(r.global, *args); }; });
}

}  // namespace labctl::cli
