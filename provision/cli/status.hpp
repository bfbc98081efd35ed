#pragma once

// `labctl status`: every VM of the scope probed once on its host (domain state, address,
// memory, stage reached, each instance's health). `status --watch` (alias `top`) probes
// again every interval and draws the classroom in place (status_watch.cpp).

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "provision/cli/common.hpp"
#include "provision/model/access.hpp"
#include "provision/ready/stages.hpp"

namespace labctl::cli {

struct StatusRow {
  const model::Vm* vm = nullptr;
  std::string host;
  std::string state = "absent";  // the domain's power state, "absent" or "unreachable"
  model::Bytes memory = 0;
  ready::VmReadiness readiness;
  std::vector<std::pair<model::Instance, bool>> instances;  // healthy?
  bool standin = false;  // the classroom runs the stand-in stack (`up --standin`)
  // Network key -> the address the LAN's DHCP gave a bridge NIC: asked of the guest when it
  // answers SSH, else as `up` last recorded it.
  std::map<std::string, std::string> dhcp;
  // Students' access (`access:`): the VM's published SSH, and each instance's published
  // endpoint by instance name, as students see them.
  std::optional<model::Endpoint> ssh;
  std::map<std::string, model::Endpoint> published;
  std::string user;  // the login students use (the lab's admin user)
  // No such VM: its address is the one the lab file plans, not one it has.
  bool planned() const { return state == "absent"; }
};

// What a status needs once: the lab, the teams in scope, the classroom's state directory.
struct StatusContext {
  model::Lab lab;
  plan::Scope scope;
  sys::StateDir state;
};

// TEAM "" for every team.
Result<StatusContext> open_status(const GlobalOptions& global, const std::string& team);

// Every VM in scope, in lab order, on its host; not probed yet.
std::vector<StatusRow> status_rows(const GlobalOptions& global, const StatusContext& context);

// The same rows, probed on each host (the VMs of a host in parallel).
std::vector<StatusRow> probe_status(const GlobalOptions& global, const StatusContext& context);

// The rows as `status --json` prints them.
nlohmann::ordered_json status_json(const std::vector<StatusRow>& rows);

struct WatchOptions {
  std::string team;  // "" for every team
  int interval = 2;  // seconds between probes
  int count = 0;     // stop after this many probes; 0: until q or Ctrl-C
};

// On a terminal: the live view until q or Ctrl-C. With --json: one JSON document (the
// `status --json` array) per line and probe. Otherwise a usage error.
Status run_watch(const GlobalOptions& global, const WatchOptions& options);

}  // namespace labctl::cli
