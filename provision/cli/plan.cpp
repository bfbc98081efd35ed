#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "provision/cli/converge.hpp"
#include "provision/converge/up.hpp"

namespace labctl::cli {

namespace {

// The scripts a scripted backend (Hyper-V) would run for the plan: printed after the table,
// or under --json the host entry's "powershell" (a list of scripts).
void print_scripts(const GlobalOptions& global, const std::string& uri,
                   const std::vector<std::string>& scripts) {
  if (global.json) {
    global.output->document["hosts"].back()["powershell"] = scripts;
    return;
  }
  fmt::print("\n# PowerShell that `up` would run on {}:\n", uri);
  for (const std::string& script : scripts) {
    fmt::print("\n{}\n", script);
  }
}

}  // namespace

Status plan_host(const GlobalOptions& global, const model::Lab& lab, const std::string& uri,
                 const plan::Scope& scope, const ConvergeOptions& options) {
  model::Lab planned = lab;
  converge::Session session(planned, session_options(options));
  auto host = session.plan_host(uri, scope);
  if (!host) {
    return host.error();
  }
  if (!host->unreached.empty()) {
    notice(global, "note",
           fmt::format("{}: {}; planned against an empty host", uri, host->unreached));
  }
  if (!global.json) {
    fmt::print("host {}: {} actions\n", uri, host->plan.actions.size());
  }
  print_plan(global, uri, host->plan, options.adopt);
  if (!host->checks) {
    return host->checks;
  }
  if (host->scripts) {
    print_scripts(global, uri, *host->scripts);
  }
  return host->scripted;
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
      auto scope = scope_of(*lab, *teams, *all);
      if (!scope) {
        return scope.error();
      }
      // What `up --dry-run` checks, with the same flags; nothing is built or recorded.
      const converge::UpRequest request{
          *scope, *all, false, true, hosts_of(r.global), session_options(*options)};
      auto checked = converge::check_up(notifier(r.global), *lab, request);
      if (!checked) {
        return checked.error();
      }
      return plan_hosts(r.global, *lab, *checked, *all, *options, "plan failed:");
    };
  });
}

}  // namespace labctl::cli
