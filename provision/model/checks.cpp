// Whole-classroom checks that need every team expanded: collisions of derived names, subnet
// overlaps, bridges that are also host bridges, and what the hosts' backends cannot do (the
// prefix of a host-wide NAT such as Hyper-V's one NetNat per classroom, boot modes, network
// kinds).

#include <algorithm>
#include <set>
#include <unordered_map>

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

// A name labctl derives from the lab file, what it names and where that comes from.
struct Derived {
  const char* kind;  // one namespace on the host: "domain", "network", ...
  std::string name;
  std::string owner;  // "team a, VM b-c"
  Loc loc;
};

void derive_team(const LabSpec& spec, const Team& team, std::vector<Derived>& out) {
  for (std::size_t i = 0; i < team.networks.size(); ++i) {
    const Network& net = team.networks[i];
    const std::string owner = fmt::format("team {}, network {}", team.name, net.key);
    out.push_back({"network", net.name, owner, spec.networks[i].loc});
    if (net.kind == NetworkKind::nat || net.kind == NetworkKind::isolated) {
      out.push_back({"bridge device", net.bridge, owner, spec.networks[i].loc});
    }
  }
  for (std::size_t i = 0; i < team.vms.size(); ++i) {
    const Vm& vm = team.vms[i];
    const std::string owner = fmt::format("team {}, VM {}", team.name, vm.key);
    const Loc& loc = spec.vms[i].loc;
    out.push_back({"domain", vm.name, owner, loc});
    out.push_back({"volume", vm.disk_volume, owner, loc});
    out.push_back({"volume", vm.seed_volume, owner, loc});
    out.push_back({"host name", vm.hostname, owner, loc});
  }
}

// Names join team, VM and network names with '-', so teams a and a-b with VMs b-c and c both
// give <classroom>-a-b-c. Every derived name must be unique in its namespace; one hash map
// keeps this linear. (The classroom's base volumes cannot collide: they have one '-' after
// the classroom and no .qcow2 or .iso suffix that a VM's volumes have with two.)
void check_names(Reader& reader, const LabSpec& spec) {
  std::vector<Derived> names;
  for (const Team& team : spec.lab.teams) {
    derive_team(spec, team, names);
  }
  std::unordered_map<std::string, const Derived*> seen;
  for (const Derived& mine : names) {
    const auto [it, fresh] = seen.emplace(std::string(mine.kind) + '/' + mine.name, &mine);
    if (fresh) {
      continue;
    }
    const Derived& other = *it->second;
    const bool bridge = std::string(mine.kind) == "bridge device";
    reader.error(mine.loc,
                 fmt::format("{} '{}' of {} is also the {} of {} ({}:{}:{}: {}): {}", mine.kind,
                             mine.name, mine.owner, mine.kind, other.owner, reader.diag().file(),
                             other.loc.line, other.loc.column, other.loc.path,
                             bridge ? "put {team} and {net} (or {team_index}) in bridge_name"
                                    : "names are joined with '-': rename a team, VM or network "
                                      "so that no two joined names are the same"));
    return;
  }
}

// A bridge labctl creates (nat, isolated) must not be a host bridge the lab also uses.
void check_bridges(Reader& reader, const LabSpec& spec) {
  std::set<std::string> existing;
  for (const Team& team : spec.lab.teams) {
    for (const Network& net : team.networks) {
      if (net.kind == NetworkKind::bridge || net.kind == NetworkKind::ovs) {
        existing.insert(net.bridge);
      }
    }
  }
  for (const Team& team : spec.lab.teams) {
    for (const Network& net : team.networks) {
      const bool created = net.kind == NetworkKind::nat || net.kind == NetworkKind::isolated;
      if (created && existing.count(net.bridge) != 0) {
        reader.error(spec_of(spec, net.key)->loc,
                     fmt::format("bridge name '{}' of {} is also used by an existing host "
                                 "bridge: put {{team}} and {{net}} (or {{team_index}}) in "
                                 "bridge_name",
                                 net.bridge, net.name));
        return;
      }
    }
  }
}

// The URIs the lab names: its hosts' and the teams' own.
std::vector<std::string> uris_of(const Lab& lab) {
  std::vector<std::string> uris;
  for (const Host& host : lab.hosts) {
    uris.push_back(host.uri);
  }
  for (const Team& team : lab.teams) {
    if (!team.host.empty()) {
      uris.push_back(team.host);
    }
  }
  return uris;
}

// The first backend among the lab's hosts whose NAT is host-wide.
std::optional<BackendLimits> shared_nat_backend(const LabSpec& spec) {
  for (const std::string& uri : uris_of(spec.lab)) {
    BackendLimits limits = spec.backends.of(uri);
    if (!limits.shared_nat.empty()) {
      return limits;
    }
  }
  return std::nullopt;
}

// A backend whose NAT is host-wide (Hyper-V: one NetNat) gives every nat network of the
// classroom on a host one NAT over nat_prefix() (addressing.hpp). That prefix always exists;
// a lab is refused when it would be wider than /8 (the widest pool or subnet a lab file may
// give), e.g. 0.0.0.0/0 for nat networks in 10.x and 192.168.x: Windows would then take most
// of the address space as the NAT's inside.
void check_shared_nat(Reader& reader, const LabSpec& spec) {
  const std::optional<Subnet> prefix = nat_prefix(spec.lab);
  if (!prefix || prefix->prefix >= 8) {
    return;
  }
  const std::optional<BackendLimits> backend = shared_nat_backend(spec);
  if (!backend) {
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
  reader.error(loc, fmt::format("on {} the classroom's nat networks share one {}, whose "
                                "prefix must hold them all: {} ({}) and {} ({}) are only held "
                                "together by {}, wider than /8: give every nat network a subnet "
                                "inside one /8, or leave subnet: out to take them from the pool",
                                backend->name, backend->shared_nat, first->subnet->cidr(),
                                first->name, apart->subnet->cidr(), apart->name, prefix->cidr()));
}

// The hosts a team may run on: its own, else any of the lab's (placement picks one). None
// for a lab without hosts: it runs wherever --connect points, and `plan` and `up` check there.
std::vector<std::string> hosts_of(const Lab& lab, const Team& team) {
  if (!team.host.empty()) {
    return {team.host};
  }
  std::vector<std::string> uris;
  for (const Host& host : lab.hosts) {
    uris.push_back(host.uri);
  }
  return uris;
}

// The image's boot mode and each network's kind on every host a team may run on.
void check_team_hosts(Reader& reader, const LabSpec& spec) {
  for (const Team& team : spec.lab.teams) {
    for (const std::string& uri : hosts_of(spec.lab, team)) {
      const BackendLimits limits = spec.backends.of(uri);
      if (auto why = boot_refusal(limits, spec.lab.image.boot); !why.empty()) {
        reader.error(spec.boot_loc, fmt::format("host {}: {}", uri, why));
        return;
      }
      for (std::size_t i = 0; i < team.networks.size(); ++i) {
        if (auto why = network_refusal(limits, team.networks[i].kind); !why.empty()) {
          reader.error(spec.networks[i].loc, fmt::format("host {}: {}", uri, why));
          return;
        }
      }
    }
  }
}

}  // namespace

void check_backends(Reader& reader, const LabSpec& spec) {
  if (!spec.backends.of) {
    return;
  }
  check_shared_nat(reader, spec);
  if (!reader.diag().failed()) {
    check_team_hosts(reader, spec);
  }
}

void check_lab(Reader& reader, const LabSpec& spec) {
  check_names(reader, spec);
  check_overlaps(reader, spec);
  check_bridges(reader, spec);
  check_backends(reader, spec);
  check_registry(reader, spec);
  check_access(reader, spec);
}

}  // namespace labctl::model
