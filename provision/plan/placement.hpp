#pragma once

// Placement: which host each team lives on. A pure function from what the teams need (the
// sum of their VMs' memory caps), what each listed host has free and the previous placement
// to team -> host URI. Rules: a team's VMs stay together; pins win; a team placed before
// stays where it is while its host is listed (adding a team moves nobody); a new team goes
// to the reachable host with the most free memory after its reserve (ties: host order) and
// uses that memory up; with no hosts listed every team goes to the default URI. With
// `overcommit` (`up --force`), a team that fits nowhere goes to the reachable host with the
// most free memory anyway, and is named in the placement's notes.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "hypervisors/hypervisor.hpp"
#include "provision/model/lab.hpp"
#include "provision/plan/plan.hpp"
#include "provision/result.hpp"

namespace labctl::plan {

struct TeamDemand {
  std::string team;
  model::Bytes memory = 0;  // sum of the VMs' caps
  int vms = 0;
  std::string pin;  // pinned host URI, "" when labctl places it
};

// One listed host, as read before placing. `used_by_others` is the memory in use by what is
// not this classroom's; `reachable` is false when its facts could not be read (`error`).
struct HostFacts {
  std::string uri;
  model::Bytes total = 0;
  model::Bytes used_by_others = 0;
  model::Bytes reserve = 0;
  bool reachable = true;
  std::string error;
};

using Placement = std::map<std::string, std::string>;  // team -> host URI

struct PlacementInput {
  std::vector<TeamDemand> teams;  // in lab order
  std::vector<HostFacts> hosts;   // in the lab's order; empty: every team on default_uri
  Placement previous;             // from the classroom's state
  std::string default_uri;
  bool overcommit = false;  // place a team that fits nowhere rather than refuse it
};

// Every team of the input placed, or an Error naming the team that fits nowhere with what it
// needs and what each host has free. With `overcommit`, such a team is placed all the same and
// `overcommitted` (when given) receives one line per such team, with the same numbers; only
// when no host is reachable is it still refused.
Result<Placement> place_teams(const PlacementInput& input,
                              std::vector<std::string>* overcommitted = nullptr);

// The teams to place: the scope's, and those placed before (their memory stays taken).
std::vector<TeamDemand> team_demands(const model::Lab& lab, const Scope& scope,
                                     const Placement& previous);

// A host's facts from its host_info() and this classroom's inventory there: what is in use
// minus what this classroom's running domains take is used by others.
HostFacts host_facts(const model::Host& host, const Result<hv::HostInfo>& info,
                     const Result<hv::Inventory>& inventory);

}  // namespace labctl::plan
