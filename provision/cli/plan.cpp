#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "provision/apply/apply.hpp"
#include "provision/cli/converge.hpp"
#include "provision/cli/identity.hpp"
#include "provision/cli/standin.hpp"
#include "provision/cli/versions.hpp"

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

}  // namespace

namespace {

std::vector<const model::Team*> teams_in(const model::Lab& lab, const plan::Scope& scope) {
  std::vector<const model::Team*> teams;
  for (const model::Team& team : lab.teams) {
    if (scope.covers(team.name)) {
      teams.push_back(&team);
    }
  }
  return teams;
}

// The scripts a scripted backend (Hyper-V) would run for the plan: printed after the table,
// or under --json the host entry's "powershell" (a list of scripts).
Status print_scripts(const GlobalOptions& global, const model::Lab& lab, const std::string& uri,
                     hv::ScriptedDryRun& dry, const plan::Plan& plan) {
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

}  // namespace

Status plan_host(const GlobalOptions& global, const model::Lab& lab, const std::string& uri,
                 const plan::Scope& scope, const ConvergeOptions& options) {
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
  print_plan(global, uri, plan, options.adopt);
  if (reached && (!plan.empty() || !plan.conflicts.empty())) {
    // What `up` would refuse before creating anything.
    const auto teams = teams_in(lab, scope);
    if (auto st = check_host(lab, teams, **hypervisor, *inventory, plan, uri, options); !st) {
      return st;
    }
  }
  if (!dry || plan.empty()) {
    return {};  // libvirt: the plan is the dry run
  }
  return print_scripts(global, lab, uri, *dry, plan);
}

namespace {

// A conflict as a row of the plan: "conflict" (up refuses), or "adopt" under --adopt.
std::string conflict_op(const plan::Conflict& conflict, bool adopt) {
  return adopt && conflict.adoptable ? "adopt" : "conflict";
}

nlohmann::ordered_json plan_json(const plan::Plan& plan, bool adopt) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const plan::Conflict& c : plan.conflicts) {
    out.push_back({{"op", conflict_op(c, adopt)},
                   {"kind", c.kind},
                   {"name", c.name},
                   {"team", c.team},
                   {"vm", c.vm},
                   {"reason", c.holder}});
  }
  for (const plan::Action& a : plan.actions) {
    out.push_back({{"op", plan::to_string(a.op)},
                   {"kind", plan::to_string(a.role)},
                   {"name", a.name},
                   {"team", a.team},
                   {"vm", a.vm},
                   {"reason", a.reason}});
  }
  return out;
}

}  // namespace

void print_plan(const GlobalOptions& global, const std::string& uri, const plan::Plan& plan,
                bool adopt) {
  if (global.json) {
    global.output->document["hosts"].push_back(
        {{"host", uri}, {"actions", plan_json(plan, adopt)}});
    return;
  }
  if (plan.empty() && plan.conflicts.empty()) {
    fmt::print("Nothing to do: the hosts match the lab file.\n");
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (const plan::Conflict& c : plan.conflicts) {
    rows.push_back({conflict_op(c, adopt), c.kind, c.name, c.holder});
  }
  for (const plan::Action& a : plan.actions) {
    rows.push_back({plan::to_string(a.op), plan::to_string(a.role), a.name, a.reason});
  }
  print_table({"ACTION", "KIND", "NAME", "REASON"}, rows);
  fmt::print("\n{} actions.\n", plan.actions.size());
  if (!plan.conflicts.empty()) {
    fmt::print("{} conflicts: names the classroom needs that are held{}.\n", plan.conflicts.size(),
               adopt ? " (adopt: --adopt takes them over as this classroom's)" : "");
  }
}

void add_plan(Registry r) {
  auto* sub = r.app.add_subcommand("plan", "Print what `up` would do, and why; change nothing");
  auto teams = std::make_shared<std::vector<std::string>>();
  auto all = std::make_shared<bool>(false);
  auto options = std::make_shared<ConvergeOptions>();
  sub->add_option("TEAM", *teams, "Teams to plan");
  sub->add_flag("--all", *all, "Every team of the classroom");
  sub->add_flag("--adopt", options->adopt,
                "Plan as `up --adopt`: the classroom's objects of another identity are adopted");
  sub->add_flag("--force", options->force,
                "Plan as `up --force`: memory that does not fit is not refused");
  sub->callback([r, teams, all, options] {
    r.command = [r, teams, all, options]() -> Status {
      auto lab = load(r.global);
      if (!lab) {
        return lab.error();
      }
      auto identity = read_identity(*lab, options->adopt);
      if (!identity) {
        return identity.error();
      }
      lab->identity = *identity;
      auto scope = scope_of(*lab, *teams, *all);
      if (!scope) {
        return scope.error();
      }
      if (auto st = check_versions(r.global, *lab, *scope, classroom_is_standin(lab->classroom));
          !st) {
        return st;
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
        if (auto st = plan_host(r.global, *lab, uri, host_scope, *options); !st) {
          failures += "\n  " + st.error().message;
        }
      }
      return failures.empty() ? Status() : Error::failure("plan failed:" + failures);
    };
  });
}

}  // namespace labctl::cli
