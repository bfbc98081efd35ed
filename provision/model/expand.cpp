// Expansion of the team template into concrete, deterministic resources: names, bridge
// devices, subnets, addresses, MACs, ports and each VM's spec hash.

#include <map>

#include <fmt/format.h>

#include "provision/model/addressing.hpp"
#include "provision/model/names.hpp"
#include "provision/model/size.hpp"
#include "provision/model/spec.hpp"

namespace labctl::model {

namespace {

struct TeamContext {
  const LabSpec& spec;
  const std::string& team;
  int index;
};

// Replaces {name} placeholders; "" and the unknown placeholder in `bad` on failure.
std::string fill(const std::string& pattern, const std::map<std::string, std::string>& vars,
                 std::string& bad) {
  std::string out;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '{') {
      out += pattern[i];
      continue;
    }
    const std::size_t close = pattern.find('}', i);
    const std::string name = pattern.substr(i + 1, close == std::string::npos ? 0 : close - i - 1);
    const auto found = vars.find(name);
    if (close == std::string::npos || found == vars.end()) {
      bad = close == std::string::npos ? "{" : "{" + name + "}";
      return {};
    }
    out += found->second;
    i = close;
  }
  return out;
}

std::string placeholders(const std::map<std::string, std::string>& vars) {
  std::string out;
  for (const auto& [name, value] : vars) {
    out += (out.empty() ? "{" : ", {") + name + "}";
  }
  return out;
}

void expand_bridge(Reader& reader, const TeamContext& ctx, const NetworkSpec& spec, Network& net) {
  const std::map<std::string, std::string> vars{{"classroom", ctx.spec.lab.classroom},
                                                {"team", ctx.team},
                                                {"team_index", std::to_string(ctx.index)},
                                                {"net", spec.key}};
  std::string bad;
  net.bridge = fill(spec.bridge_pattern, vars, bad);
  if (!bad.empty()) {
    reader.error(spec.loc, fmt::format("unknown placeholder '{}' in bridge_name (use {})", bad,
                                       placeholders(vars)));
  } else if (net.bridge.size() > k_max_bridge) {
    reader.error(spec.loc,
                 fmt::format("bridge name '{}' is {} characters; Linux allows {}: set "
                             "template.networks.{}.bridge_name to a shorter pattern such as "
                             "'{{classroom}}{{team_index}}{{net}}'",
                             net.bridge, net.bridge.size(), k_max_bridge, spec.key));
  } else if (!check_name("bridge name", net.bridge).empty()) {
    reader.error(spec.loc, fmt::format("invalid bridge name '{}' (use lower-case letters, "
                                       "digits and '-', starting with a letter)",
                                       net.bridge));
  }
}

// The pool slot of addressed network `n` (0-based among pool-addressed networks) of team t.
std::optional<Subnet> pool_slot(const LabSpec& spec, int team, int n, int per_team) {
  const Subnet pool = spec.pool.value_or(default_pool(spec.lab.classroom));
  const std::uint64_t slot = static_cast<std::uint64_t>(team - 1) * per_team + n;
  const std::uint64_t slots = 1ULL << (24 - pool.prefix);
  if (slot >= slots) {
    return std::nullopt;
  }
  return Subnet{pool.network + static_cast<std::uint32_t>(slot) * 256U, 24};
}

int pool_networks(const LabSpec& spec) {
  int count = 0;
  for (const NetworkSpec& net : spec.networks) {
    const bool addressed = net.kind == NetworkKind::nat || net.kind == NetworkKind::isolated;
    count += addressed && net.subnet_pattern.empty() ? 1 : 0;
  }
  return count;
}

std::optional<Subnet> explicit_subnet(Reader& reader, const TeamContext& ctx,
                                      const NetworkSpec& spec) {
  const std::map<std::string, std::string> vars{{"team_index", std::to_string(ctx.index)}};
  std::string bad;
  const std::string text = fill(spec.subnet_pattern, vars, bad);
  if (!bad.empty()) {
    reader.error(spec.subnet_loc, fmt::format("unknown placeholder '{}' in subnet (use "
                                              "{{team_index}})",
                                              bad));
    return std::nullopt;
  }
  const auto subnet = parse_cidr(text);
  if (!subnet || subnet->prefix < 8 || subnet->prefix > 24) {
    reader.error(spec.subnet_loc, fmt::format("invalid subnet '{}' (expected a network /8 to "
                                              "/24 such as 192.168.{{team_index}}.0/24)",
                                              text));
  }
  return subnet;
}

void address_network(Reader& reader, const TeamContext& ctx, const NetworkSpec& spec,
                     int& pool_index, Network& net) {
  const bool addressed = net.kind == NetworkKind::nat || net.kind == NetworkKind::isolated;
  if (!spec.subnet_pattern.empty()) {
    net.subnet = explicit_subnet(reader, ctx, spec);
  } else if (addressed) {
    const int per_team = pool_networks(ctx.spec);
    net.subnet = pool_slot(ctx.spec, ctx.index, pool_index++, per_team);
    if (!net.subnet) {
      const Subnet pool = ctx.spec.pool.value_or(default_pool(ctx.spec.lab.classroom));
      reader.error(ctx.spec.pool ? ctx.spec.pool_loc : ctx.spec.networks_loc,
                   fmt::format("the subnet pool {} has room for {} /24 networks but {} teams "
                               "need {} each: give a larger pool in subnets:",
                               pool.cidr(), 1ULL << (24 - pool.prefix), ctx.spec.team_names.size(),
                               per_team));
    }
  }
  if (net.subnet && net.kind == NetworkKind::nat) {
    net.gateway = net.subnet->address(1);
    net.dhcp_start = net.subnet->address(100);
    net.dhcp_end = net.subnet->address(199);
  }
}

Network expand_network(Reader& reader, const TeamContext& ctx, const NetworkSpec& spec,
                       int& pool_index) {
  Network net;
  net.key = spec.key;
  net.name = fmt::format("{}-{}-{}", ctx.spec.lab.classroom, ctx.team, spec.key);
  net.team = ctx.team;
  net.kind = spec.kind;
  if (spec.kind == NetworkKind::nat || spec.kind == NetworkKind::isolated) {
    expand_bridge(reader, ctx, spec, net);
  } else {
    net.bridge = spec.bridge;
  }
  if (spec.kind == NetworkKind::ovs && spec.vlan != 0) {
    net.vlan = spec.vlan + ctx.index;
    if (net.vlan > 4094) {
      reader.error(spec.loc, fmt::format("team {} would get VLAN {}; VLANs end at 4094: use a "
                                         "lower vlan:",
                                         ctx.team, net.vlan));
    }
  }
  address_network(reader, ctx, spec, pool_index, net);
  return net;
}

}  // namespace

void expand_lab(Reader& reader, LabSpec& spec) {
  spec.lab.subnet_pool = spec.pool.value_or(default_pool(spec.lab.classroom));
  int team_index = 0;
  for (const std::string& name : spec.team_names) {
    Team team;
    team.name = name;
    team.index = ++team_index;
    const TeamContext ctx{spec, name, team.index};
    int pool_index = 0;
    for (const NetworkSpec& net : spec.networks) {
      team.networks.push_back(expand_network(reader, ctx, net, pool_index));
    }
    for (const TeamOverride& override : spec.overrides) {
      team.host = override.team == name ? override.host : team.host;
    }
    int vm_index = 0;
    for (const VmSpec& vm : spec.vms) {
      team.vms.push_back(expand_vm(reader, spec, team, vm, ++vm_index));
    }
    spec.lab.teams.push_back(std::move(team));
  }
}

}  // namespace labctl::model
