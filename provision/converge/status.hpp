#pragma once

// What `labctl status` (and a web console's classroom page) show of a classroom: every VM of
// the scope probed once on its host: its domain state, address (and what a LAN's DHCP gave
// it), memory, the stage reached, each instance's health, and how students reach it.

#include <atomic>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "provision/converge/placement.hpp"
#include "provision/model/access.hpp"
#include "provision/ready/stages.hpp"
#include "provision/sys/state.hpp"

namespace labctl::converge {

struct StatusRow {
  const model::Vm* vm = nullptr;
  std::string host;
  std::string state = "absent";  // the domain's power state, "absent" or "unreachable"
  model::Bytes memory = 0;
  ready::VmReadiness readiness;
  std::vector<std::pair<model::Instance, bool>> instances;  // healthy?
  bool standin = false;  // the classroom runs the stand-in stack (`up --standin`)
  // The instances the VM is to run: the lab file's, as `squash add|rm` changed them.
  std::vector<model::Instance> recorded;
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

// The lab and scope with the classroom's state directory, opened read-only (status creates
// nothing).
Result<StatusContext> open_status(model::Lab lab, plan::Scope scope);

// Every VM in scope, in lab order, on its host; not probed yet. The classroom's state is read
// each time (`squash add` elsewhere shows at the next probe): one that cannot be read is an
// error naming the file, not an empty classroom.
Result<std::vector<StatusRow>> status_rows(const HostChoice& hosts, const StatusContext& context);

// The same rows, probed on each host (the VMs of a host in parallel); `stop` ends the probes'
// waits early.
Result<std::vector<StatusRow>> probe_status(const HostChoice& hosts, const StatusContext& context,
                                            const std::atomic<bool>* stop);

// The rows as `status --json` prints them (and the web console serves them).
nlohmann::ordered_json status_json(const std::vector<StatusRow>& rows);

}  // namespace labctl::converge
