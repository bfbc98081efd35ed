#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "provision/cli/common.hpp"

namespace labctl::cli {

Result<plan::Plan> current_plan(const GlobalOptions& global, const model::Lab& lab,
                                const plan::Scope& scope, hv::Hypervisor& hypervisor) {
  auto inventory = hypervisor.inventory(lab.classroom);
  if (!inventory) {
    return inventory.error();
  }
  (void)global;
  return plan::plan_up(lab, *inventory, scope);
}

void print_plan(const GlobalOptions& global, const plan::Plan& plan) {
  if (global.json) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const plan::Action& a : plan.actions) {
      out.push_back({{"op", plan::to_string(a.op)},
                     {"kind", plan::to_string(a.role)},
                     {"name", a.name},
                     {"team", a.team},
                     {"vm", a.vm},
                     {"reason", a.reason}});
    }
    fmt::print("{}\n", out.dump(2));
    return;
  }
  if (plan.empty()) {
    fmt::print("Nothing to do: the hosts match the lab file.\n");
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (const plan::Action& a : plan.actions) {
    rows.push_back({plan::to_string(a.op), plan::to_string(a.role), a.name, a.reason});
  }
  print_table({"ACTION", "KIND", "NAME", "REASON"}, rows);
  fmt::print("\n{} actions.\n", plan.actions.size());
}

void add_plan(Registry r) {
  auto* sub = r.app.add_subcommand("plan", "Print what `up` would do, and why; change nothing");
  auto teams = std::make_shared<std::vector<std::string>>();
  auto all = std::make_shared<bool>(false);
  sub->add_option("TEAM", *teams, "Teams to plan");
  sub->add_flag("--all", *all, "Every team of the classroom");
  sub->callback([r, teams, all] {
    r.command = [r, teams, all]() -> Status {
      auto lab = load(r.global);
      if (!lab) {
        return lab.error();
      }
      auto scope = scope_of(*lab, *teams, *all);
      if (!scope) {
        return scope.error();
      }
      auto hypervisor = connect(host_uri(r.global, *lab));
      if (!hypervisor) {
        return hypervisor.error();
      }
      auto p = current_plan(r.global, *lab, *scope, **hypervisor);
      if (!p) {
        return p.error();
      }
      print_plan(r.global, *p);
      return {};
    };
  });
}

}  // namespace labctl::cli
