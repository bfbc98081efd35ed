#include "provision/cli/converge.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace labctl::cli {

converge::Options session_options(const ConvergeOptions& options) {
  return {.force = options.force,
          .no_wait = options.no_wait,
          .adopt = options.adopt,
          .jobs = options.jobs,
          .stop = &stop_flag()};
}

Status plan_hosts(const GlobalOptions& global, const model::Lab& lab,
                  const converge::UpChecked& checked, bool all, const ConvergeOptions& options,
                  const std::string& failed) {
  std::string failures;
  for (const auto& [uri, teams] : checked.by_host) {
    const plan::Scope scope = converge::scope_of_teams(lab, teams, all);
    if (auto st = plan_host(global, lab, uri, scope, options); !st) {
      failures += "\n  " + st.error().message;
    }
  }
  return failures.empty() ? Status() : Error::failure(failed + failures);
}

Status summarize(const GlobalOptions& global, const std::vector<ready::VmReadiness>& results) {
  if (global.json) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const auto& r : results) {
      nlohmann::ordered_json stages = nlohmann::ordered_json::object();
      for (const auto& [stage, at] : r.stage_seconds) {
        stages[ready::to_string(stage)] = at;
      }
      out.push_back({{"team", r.team},
                     {"vm", r.vm},
                     {"stage", ready::to_string(r.reached)},
                     {"failed", r.failed == ready::Stage::none ? "" : ready::to_string(r.failed)},
                     {"message", r.message},
                     {"seconds", r.seconds},
                     {"stages", stages}});
    }
    global.output->document = std::move(out);
  } else {
    std::vector<std::vector<std::string>> rows;
    for (const auto& r : results) {
      rows.push_back(
          {r.team, r.vm, ready::to_string(r.reached), fmt::format("{:.0f}s", r.seconds),
           r.failed == ready::Stage::none ? "ok" : "FAILED at " + ready::to_string(r.failed)});
    }
    print_table({"TEAM", "VM", "STAGE", "TIME", "RESULT"}, rows);
  }
  return converge::readiness_failures(results);
}

}  // namespace labctl::cli
