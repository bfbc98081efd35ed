#pragma once

// What `up`, `reset`, `down` and `plan` share on the CLI side: their flags as the converge
// session's options (converge/session.hpp), the hosts the teams are placed on, and the
// printing of what the session returns.

#include <string>
#include <vector>

#include "provision/cli/common.hpp"
#include "provision/converge/session.hpp"
#include "provision/converge/up.hpp"

namespace labctl::cli {

struct ConvergeOptions {
  bool dry_run = false;
  bool force = false;    // start even when the capacity check says it does not fit
  bool no_wait = false;  // return after apply, without waiting for the guests
  bool standin = false;  // stand-in images built on the host (standin.hpp)
  bool adopt = false;    // re-tag the classroom's objects tagged by another identity, or none
  int jobs = 0;
};

// The session's share of the flags; a Ctrl-C stops it between actions.
converge::Options session_options(const ConvergeOptions& options);

// `plan` and `up --dry-run` on one host (converge::Session::plan_host), printed: the plan
// against the host's inventory, for a scripted backend (Hyper-V) also the exact scripts `up`
// would run. Fails as `up` would on that host.
Status plan_host(const GlobalOptions& global, const model::Lab& lab, const std::string& uri,
                 const plan::Scope& scope, const ConvergeOptions& options);

// plan_host on each host `up` would use (converge::check_up's), printed; each host's
// refusal (its message names the host) joins an Error that starts with `failed`.
Status plan_hosts(const GlobalOptions& global, const model::Lab& lab,
                  const converge::UpChecked& checked, bool all, const ConvergeOptions& options,
                  const std::string& failed);

// Prints the readiness of VMs (table or JSON) and turns failures into an Error that names
// each VM and stage, with the last lines of its serial log.
Status summarize(const GlobalOptions& global, const std::vector<ready::VmReadiness>& results);

}  // namespace labctl::cli
