#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "provision/apply/apply.hpp"
#include "provision/cli/converge.hpp"

namespace labctl::cli {

namespace {

// Local files are not produced in a dry run: the scripts name the paths they would use.
struct NoFiles : apply::Materializer {
  Result<std::string> base_file(plan::Role role) override {
    return "<" + plan::to_string(role) + " file>";
  }
  Result<std::string> seed_file(const model::Vm& vm) override { return vm.seed_volume; }
  std::string serial_log(const model::Vm&) override { return ""; }
  std::string accelerator() override { return "hyperv"; }
};

// The scripts a scripted backend (Hyper-V) would run for the plan: printed after the table,
// or under --json the host entry's "powershell" (a list of scripts).
Status print_scripts(const GlobalOptions& global, const model::Lab& lab, const std::string& uri,
                     const plan::Plan& plan, hv::ScriptedDryRun& dry) {
  NoFiles files;
  sys::RecordingReporter quiet;
  const apply::Outcome outcome = apply::apply(lab, plan, *dry.hypervisor, files, quiet, {});
  if (global.json) {
    global.output->document["hosts"].back()["powershell"] = dry.scripts();
  } else {
    fmt::print("\n# PowerShell that `up` would run on {}:\n", uri);
    for (const std::string& script : dry.scripts()) {
      fmt::print("\n{}\n", script);
    }
  }
  if (!outcome.ok()) {
    std::string message = fmt::format("{}: {} actions cannot be scripted:", uri, outcome.failed);
    for (const std::string& error : outcome.errors) {
      message += "\n  " + error;
    }
    return Error::failure(message);
  }
  return {};
}

// What `up` would refuse before creating anything: another NAT on a host-wide-NAT host.
Status check_plan_nat(const model::Lab& lab, const plan::Scope& scope, hv::Hypervisor& hypervisor,
                      const std::string& uri) {
  std::vector<const model::Team*> teams;
  for (const model::Team& team : lab.teams) {
    if (scope.covers(team.name)) {
      teams.push_back(&team);
    }
  }
  return check_nat(lab, teams, hypervisor, uri);
}

}  // namespace

Status plan_host(const GlobalOptions& global, const model::Lab& lab, const std::string& uri,
                 const plan::Scope& scope) {
  auto dry = hv::open_dry_run(uri);
  auto hypervisor = connect(uri);
  auto inventory = hypervisor ? (*hypervisor)->inventory(lab.classroom)
                              : Result<hv::Inventory>(hypervisor.error());
  const bool reached = inventory.ok();
  if (!inventory && dry) {
    // A scripted backend (Hyper-V) can still show what it would run on an empty host.
    notice(global, "note",
           fmt::format("{}: {}; planned against an empty host", uri, inventory.error().message));
    inventory = dry->hypervisor->inventory(lab.classroom);
  }
  if (!inventory) {
    return inventory.error();
  }
  const plan::Plan plan = plan::plan_up(lab, *inventory, scope);
  if (!global.json) {
    fmt::print("host {}: {} actions\n", uri, plan.actions.size());
  }
  print_plan(global, uri, plan);
  if (reached && !plan.empty()) {
    if (auto st = check_plan_nat(lab, scope, **hypervisor, uri); !st) {
      return st;
    }
  }
  if (!dry || plan.empty()) {
    return {};  // libvirt: the plan is the dry run
  }
  return print_scripts(global, lab, uri, plan, *dry);
}

void print_plan(const GlobalOptions& global, const std::string& uri, const plan::Plan& plan) {
  if (global.json) {
    nlohmann::ordered_json actions = nlohmann::ordered_json::array();
    for (const plan::Action& a : plan.actions) {
      actions.push_back({{"op", plan::to_string(a.op)},
                         {"kind", plan::to_string(a.role)},
                         {"name", a.name},
                         {"team", a.team},
                         {"vm", a.vm},
                         {"reason", a.reason}});
    }
    global.output->document["hosts"].push_back({{"host", uri}, {"actions", actions}});
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
      // Where `up` would place new teams; nothing is recorded.
      auto placement = place_scope(r.global, *lab, *scope);
      if (!placement) {
        return placement.error();
      }
      GlobalOptions placed = r.global;
      placed.placement = std::move(*placement);
      std::string failures;
      for (const auto& [uri, host_teams] : teams_by_host(placed, *lab, *scope)) {
        plan::Scope host_scope;
        host_scope.all = *all && host_teams.size() == lab->teams.size();
        for (const model::Team* team : host_teams) {
          host_scope.teams.push_back(team->name);
        }
        if (auto st = plan_host(r.global, *lab, uri, host_scope); !st) {
          failures += "\n  " + st.error().message;
        }
      }
      return failures.empty() ? Status() : Error::failure("plan failed:" + failures);
    };
  });
}

}  // namespace labctl::cli
