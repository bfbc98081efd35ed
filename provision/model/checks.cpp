// Whole-classroom checks that need every team expanded: subnet overlaps, bridge device
// collisions, and the prefix of Hyper-V's one NetNat per classroom.

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "provision/model/addressing.hpp"
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

bool on_hyperv(const Lab& lab) {
  return std::any_of(lab.hosts.begin(), lab.hosts.end(),
                     [](const Host& h) { return is_hyperv(h.uri); }) ||
         std::any_of(lab.teams.begin(), lab.teams.end(),
                     [](const Team& t) { return is_hyperv(t.host); });
}

// Hyper-V: every nat network of the classroom on a host shares one NetNat over nat_prefix()
// (addressing.hpp). That prefix always exists; a lab is refused when it would be wider than
// /8 (the widest pool or subnet a lab file may give), e.g. 0.0.0.0/0 for nat networks in
// 10.x and 192.168.x: Windows would then take most of the address space as the NAT's inside.
void check_hyperv(Reader& reader, const LabSpec& spec) {
  const std::optional<Subnet> prefix = nat_prefix(spec.lab);
  if (!prefix || prefix->prefix >= 8 || !on_hyperv(spec.lab)) {
    return;
  }
  const Network* first = nullptr;
  const Network* apart = nullptr;
  for (const Team& team : spec.lab.teams) {
    for (const Network& net : team.networks) {
      if (net.kind != NetworkKind::nat || !net.subnet) {
        continue;
      }
      first = first == nullptr ? &net : first;
      const bool same8 = (first->subnet->network >> 24) == (net.subnet->network >> 24);
      apart = apart == nullptr && !same8 ? &net : apart;
    }
  }
  const NetworkSpec* where = spec_of(spec, apart->key);
  const NetworkSpec* other = spec_of(spec, first->key);
  const Loc loc = !where->subnet_pattern.empty()   ? where->subnet_loc
                  : !other->subnet_pattern.empty() ? other->subnet_loc
                                                   : where->loc;
  reader.error(loc, fmt::format("on Hyper-V the classroom's nat networks share one NetNat, whose "
                                "prefix must hold them all: {} ({}) and {} ({}) are only held "
                                "together by {}, wider than /8: give every nat network a subnet "
                                "inside one /8, or leave subnet: out to take them from the pool",
                                first->subnet->cidr(), first->name, apart->subnet->cidr(),
                                apart->name, prefix->cidr()));
}

}  // namespace

void check_lab(Reader& reader, const LabSpec& spec) {
  check_overlaps(reader, spec);
  check_bridges(reader, spec);
  check_hyperv(reader, spec);
}

}  // namespace labctl::model
