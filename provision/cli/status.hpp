#pragma once

// `labctl status`: every VM of the scope probed once on its host (converge/status.hpp),
// printed. `status --watch` (alias `top`) probes again every interval and draws the
// classroom in place (status_watch.cpp).

#include <string>
#include <vector>

#include "provision/cli/common.hpp"
#include "provision/converge/status.hpp"

namespace labctl::cli {

using StatusRow = converge::StatusRow;
using StatusContext = converge::StatusContext;

// TEAM "" for every team.
Result<StatusContext> open_status(const GlobalOptions& global, const std::string& team);

// Every VM in scope, in lab order, on its host; not probed yet (an error when the classroom's
// state cannot be read).
Result<std::vector<StatusRow>> status_rows(const GlobalOptions& global,
                                           const StatusContext& context);

// The same rows, probed on each host (the VMs of a host in parallel).
Result<std::vector<StatusRow>> probe_status(const GlobalOptions& global,
                                            const StatusContext& context);

struct WatchOptions {
  std::string team;  // "" for every team
  int interval = 2;  // seconds between probes
  int count = 0;     // stop after this many probes; 0: until q or Ctrl-C
};

// On a terminal: the live view until q or Ctrl-C. With --json: one JSON document (the
// `status --json` array) per line and probe. Otherwise a usage error.
Status run_watch(const GlobalOptions& global, const WatchOptions& options);

}  // namespace labctl::cli
