// Whole-classroom checks that need every team expanded: subnet overlaps, bridge device
// collisions, and Hyper-V's single NAT per host.

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "provision/model/spec.hpp"

namespace labctl::model {

namespace {

const NetworkSpec* spec_of(const LabSpec& spec, const std::string& key) {
  for (const NetworkSpec& net : spec.networks) {
    if (net.key == key) {
      return &net;
    }
  }
  return nullptr;
}

// Where to point for an overlap: at an explicit subnet pattern if either network has one
// (that is what the author wrote and can change), else at the later network's key.
Loc where(const LabSpec& spec, const Network& later, const Network& earlier) {
  const NetworkSpec* mine = spec_of(spec, later.key);
  const NetworkSpec* theirs = spec_of(spec, earlier.key);
  if (mine == nullptr || theirs == nullptr) {
    return spec.networks_loc;
  }
  if (!mine->subnet_pattern.empty()) {
    return mine->subnet_loc;
  }
  return theirs->subnet_pattern.empty() ? mine->loc : theirs->subnet_loc;
}

void check_overlaps(Reader& reader, const LabSpec& spec) {
  std::vector<const Network*> addressed;
  for (const Team& team : spec.lab.teams) {
    for (const Network& net : team.networks) {
      if (net.subnet) {
        addressed.push_back(&net);
      }
    }
  }
  // Sorted by start address, a subnet overlaps an earlier one iff it starts before the
  // furthest end seen so far (CIDR blocks nest or are disjoint).
  std::stable_sort(addressed.begin(), addressed.end(), [](const Network* a, const Network* b) {
    return a->subnet->network < b->subnet->network;
  });
  const Network* widest = nullptr;
  std::uint64_t widest_end = 0;
  for (const Network* net : addressed) {
    const std::uint64_t start = net->subnet->network;
    const std::uint64_t end = start + (1ULL << (32 - net->subnet->prefix));
    if (widest != nullptr && start < widest_end) {
      reader.error(where(spec, *net, *widest),
                   fmt::format("subnet {} of {} overlaps {} of {}", net->subnet->cidr(), net->name,
                               widest->subnet->cidr(), widest->name));
      return;
    }
    if (end > widest_end) {
      widest = net;
      widest_end = end;
    }
  }
}

void check_bridges(Reader& reader, const LabSpec& spec) {
  std::set<std::string> existing;
  std::map<std::string, const Network*> created;
  for (const Team& team : spec.lab.teams) {
    for (const Network& net : team.networks) {
      if (net.kind == NetworkKind::bridge || net.kind == NetworkKind::ovs) {
        existing.insert(net.bridge);
      }
    }
  }
  for (const Team& team : spec.lab.teams) {
    for (const Network& net : team.networks) {
      if (net.kind != NetworkKind::nat && net.kind != NetworkKind::isolated) {
        continue;
      }
      const auto [it, fresh] = created.emplace(net.bridge, &net);
      if (!fresh || existing.count(net.bridge) != 0) {
        const std::string other = fresh ? "an existing host bridge" : it->second->name;
        reader.error(spec_of(spec, net.key)->loc,
                     fmt::format("bridge name '{}' of {} is also used by {}: put {{team}} and "
                                 "{{net}} (or {{team_index}}) in bridge_name",
                                 net.bridge, net.name, other));
        return;
      }
    }
  }
}

bool is_hyperv(const std::string& uri) {
  return uri.rfind("hyperv://", 0) == 0;
}

void check_hyperv(Reader& reader, const LabSpec& spec) {
  const NetworkSpec* nat = nullptr;
  std::size_t nat_per_team = 0;
  for (const NetworkSpec& net : spec.networks) {
    nat = nat == nullptr && net.kind == NetworkKind::nat ? &net : nat;
    nat_per_team += net.kind == NetworkKind::nat ? 1 : 0;
  }
  if (nat == nullptr) {
    return;
  }
  const std::string fix = fmt::format(
      "use kind: isolated for {} or place teams on several "
      "Hyper-V hosts",
      nat->key);
  std::map<std::string, std::vector<std::string>> pinned;
  for (const Team& team : spec.lab.teams) {
    if (is_hyperv(team.host)) {
      pinned[team.host].push_back(team.name);
    }
  }
  for (const auto& [host, teams] : pinned) {
    if (teams.size() * nat_per_team > 1) {
      reader.error(nat->loc,
                   fmt::format("Hyper-V host {} can have only one NAT network, but "
                               "team(s) {} need {}: {}",
                               host, fmt::join(teams, ", "), teams.size() * nat_per_team, fix));
      return;
    }
  }
  const auto& hosts = spec.lab.hosts;
  const bool all_hyperv =
      !hosts.empty() &&
      std::all_of(hosts.begin(), hosts.end(), [](const Host& h) { return is_hyperv(h.uri); });
  const std::size_t need = spec.lab.teams.size() * nat_per_team;
  if (all_hyperv && need > hosts.size()) {
    reader.error(nat->loc, fmt::format("Hyper-V allows one NAT network per host: {} host(s) "
                                       "cannot hold the {} NAT networks of {} team(s): {}",
                                       hosts.size(), need, spec.lab.teams.size(), fix));
  }
}

}  // namespace

void check_lab(Reader& reader, const LabSpec& spec) {
  check_overlaps(reader, spec);
  check_bridges(reader, spec);
  check_hyperv(reader, spec);
}

}  // namespace labctl::model
