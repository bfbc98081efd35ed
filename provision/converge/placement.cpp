#include "provision/converge/placement.hpp"

#include <algorithm>
#include <cstdlib>

#include <fmt/format.h>

#include "hypervisors/hypervisor.hpp"

namespace labctl::converge {

namespace {

std::string default_uri(const model::Lab& lab) {
  if (!lab.hosts.empty()) {
    return lab.hosts.front().uri;
  }
  if (const char* env = std::getenv("LIBVIRT_DEFAULT_URI"); env != nullptr && *env != '\0') {
    return env;
  }
  return "qemu:///system";
}

bool listed(const model::Lab& lab, const std::string& uri) {
  return std::any_of(lab.hosts.begin(), lab.hosts.end(),
                     [&](const model::Host& host) { return host.uri == uri; });
}

// A listed host's facts; when it cannot be read, `up` and `plan` say so and go on.
plan::HostFacts read_host_facts(const Notify& notify, const model::Lab& lab,
                                const model::Host& host) {
  auto hypervisor = hv::open_hypervisor(host.uri);
  auto info = hypervisor ? (*hypervisor)->host_info() : Result<hv::HostInfo>(hypervisor.error());
  auto inventory =
      info ? (*hypervisor)->inventory(lab.classroom) : Result<hv::Inventory>(info.error());
  plan::HostFacts facts = plan::host_facts(host, info, inventory);
  if (!facts.reachable) {
    notify("warning", fmt::format("{}: {}; no new team is placed there", host.uri, facts.error));
  }
  return facts;
}

// Whether a team's host comes from the placement `up` recorded: no --connect, no pinned host,
// no placement made in this process.
bool from_record(const HostChoice& hosts, const model::Team* team) {
  return hosts.connect.empty() && team != nullptr && team->host.empty() &&
         hosts.placement.find(team->name) == hosts.placement.end();
}

std::string resolve(const HostChoice& hosts, const model::Lab& lab, const model::Team* team,
                    const plan::Placement& recorded) {
  if (!hosts.connect.empty()) {
    return hosts.connect;
  }
  if (team != nullptr && !team->host.empty()) {
    return team->host;
  }
  if (team != nullptr) {
    if (auto it = hosts.placement.find(team->name); it != hosts.placement.end()) {
      return it->second;
    }
    if (auto it = recorded.find(team->name); it != recorded.end() && listed(lab, it->second)) {
      return it->second;
    }
  }
  return default_uri(lab);
}

}  // namespace

Result<std::string> host_uri(const HostChoice& hosts, const model::Lab& lab,
                             const model::Team* team) {
  if (!from_record(hosts, team)) {
    return resolve(hosts, lab, team, {});
  }
  auto recorded = recorded_placement(lab);
  if (!recorded) {
    return recorded.error();
  }
  return resolve(hosts, lab, team, *recorded);
}

std::vector<HostTeams> teams_by_host(const HostChoice& hosts, const model::Lab& lab,
                                     const plan::Scope& scope, const plan::Placement& recorded) {
  std::vector<HostTeams> groups;
  for (const model::Team& team : lab.teams) {
    if (!scope.covers(team.name)) {
      continue;
    }
    const std::string uri = resolve(hosts, lab, &team, recorded);
    auto it = std::find_if(groups.begin(), groups.end(), [&](auto& g) { return g.uri == uri; });
    if (it == groups.end()) {
      groups.push_back({uri, {}});
      it = std::prev(groups.end());
    }
    it->teams.push_back(&team);
  }
  return groups;
}

Result<std::vector<HostTeams>> teams_by_host(const HostChoice& hosts, const model::Lab& lab,
                                             const plan::Scope& scope) {
  const bool needs_record = std::any_of(lab.teams.begin(), lab.teams.end(), [&](const auto& t) {
    return scope.covers(t.name) && from_record(hosts, &t);
  });
  if (!needs_record) {
    return teams_by_host(hosts, lab, scope, plan::Placement{});
  }
  auto recorded = recorded_placement(lab);
  if (!recorded) {
    return recorded.error();
  }
  return teams_by_host(hosts, lab, scope, *recorded);
}

Status check_host_setups(const HostChoice& hosts, const model::Lab& lab) {
  plan::Scope all;
  all.all = true;
  auto groups = teams_by_host(hosts, lab, all);
  if (!groups) {
    return groups.error();
  }
  std::string problems;
  for (const auto& [uri, teams] : *groups) {
    if (auto st = hv::check_host_setup(uri, teams); !st) {
      problems += fmt::format("\n  {}: {}", uri, st.error().message);
    }
  }
  if (!problems.empty()) {
    return Error::failure(lab.file + ": valid, but a host is not ready:" + problems);
  }
  return {};
}

Result<plan::Placement> recorded_placement(const model::Lab& lab) {
  auto state = sys::StateDir::open_read_only(lab.classroom);
  if (!state) {
    return plan::Placement{};  // no state root: nothing was ever recorded
  }
  auto current = state->read_state();
  if (!current) {
    // Not a fresh start: placing the teams anew could put a team on another host.
    return Error::failure(fmt::format(
        "the teams' recorded placement cannot be read: {}: repair the file, or move it away "
        "to place the teams anew",
        current.error().message));
  }
  return current->placement;
}

Result<plan::Placement> place_scope(const Notify& notify, const HostChoice& hosts,
                                    const model::Lab& lab, const plan::Scope& scope, bool force) {
  if (!hosts.connect.empty() || lab.hosts.empty()) {
    return plan::Placement{};
  }
  plan::PlacementInput input;
  auto recorded = recorded_placement(lab);
  if (!recorded) {
    return recorded.error();
  }
  input.previous = *recorded;
  input.teams = plan::team_demands(lab, scope, input.previous);
  input.default_uri = default_uri(lab);
  // Memory matters only for teams that are neither pinned nor placed on a listed host.
  const bool any_new = std::any_of(input.teams.begin(), input.teams.end(), [&](const auto& t) {
    auto before = input.previous.find(t.team);
    return t.pin.empty() && (before == input.previous.end() || !listed(lab, before->second));
  });
  for (const model::Host& host : lab.hosts) {
    input.hosts.push_back(any_new ? read_host_facts(notify, lab, host)
                                  : plan::HostFacts{host.uri, 0, 0, host.reserve, true, ""});
  }
  input.overcommit = force;
  std::vector<std::string> overcommitted;
  auto placed = plan::place_teams(input, &overcommitted);
  for (const std::string& note : overcommitted) {
    notify("warning", "--force: " + note);
  }
  return placed;
}

void record_placement(sys::ClassroomState& state, const plan::Placement& placement) {
  for (const auto& [team, uri] : placement) {
    state.placement[team] = uri;
  }
}

}  // namespace labctl::converge
