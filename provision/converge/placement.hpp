#pragma once

// Where each team runs: the host a command gives (--connect), the team's pinned host, the
// placement made in this process or recorded by an earlier `up` in the classroom's state,
// and the placement of new teams on the lab's hosts by their free memory (plan/placement.hpp).

#include <string>
#include <vector>

#include "provision/converge/notify.hpp"
#include "provision/model/lab.hpp"
#include "provision/plan/placement.hpp"
#include "provision/plan/plan.hpp"
#include "provision/sys/classroom_state.hpp"
#include "provision/sys/state.hpp"

namespace labctl::converge {

// What the caller decided about hosts before asking.
struct HostChoice {
  std::string connect;        // every team on this URI (`--connect`), when not empty
  plan::Placement placement;  // made in this process (`up`, `plan`): wins over the record
};

// The teams one host holds.
struct HostTeams {
  std::string uri;
  std::vector<const model::Team*> teams;
};

// The connect URI, then the team's pinned host, then its placement (this process's, else the
// one `up` recorded, while its host is listed), then the lab's first host, then
// $LIBVIRT_DEFAULT_URI, then qemu:///system. A record that cannot be read is an error, when
// the team's host depends on it.
Result<std::string> host_uri(const HostChoice& hosts, const model::Lab& lab,
                             const model::Team* team = nullptr);

// The scope's teams grouped by the URI they live on, in lab order; the record is read once,
// and only when a team's host depends on it (an error when it cannot be read).
Result<std::vector<HostTeams>> teams_by_host(const HostChoice& hosts, const model::Lab& lab,
                                             const plan::Scope& scope);
// The same with the record given, by a caller that has read the classroom's state already.
std::vector<HostTeams> teams_by_host(const HostChoice& hosts, const model::Lab& lab,
                                     const plan::Scope& scope, const plan::Placement& recorded);

// What each host must provide for its teams (hv::check_host_setup), checked without
// connecting: `validate`'s host checks. The failures name each host.
Status check_host_setups(const HostChoice& hosts, const model::Lab& lab);

// The placement `up` recorded in the classroom's state, read without creating anything; an
// unreadable record is an error (placing the teams anew could move one to another host).
Result<plan::Placement> recorded_placement(const model::Lab& lab);

// Places the scope's teams on the lab's hosts, reading each host's memory only when a team is
// new there; a host that cannot be read is notified and gets no new team. Empty with a
// connect URI or without `hosts:` (host_uri decides then). With `force` (`up --force`) a
// team that fits nowhere goes to the reachable host with the most free memory, notified with
// the numbers.
Result<plan::Placement> place_scope(const Notify& notify, const HostChoice& hosts,
                                    const model::Lab& lab, const plan::Scope& scope,
                                    bool force = false);

// Merges the placement into the classroom's state (team -> URI).
void record_placement(sys::ClassroomState& state, const plan::Placement& placement);

}  // namespace labctl::converge
