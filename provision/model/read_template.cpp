// The team template (networks, VMs, Squash TM instances) and the teams it is expanded for.

#include <algorithm>
#include <regex>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include "provision/model/instance_rules.hpp"
#include "provision/model/names.hpp"
#include "provision/model/size.hpp"
#include "provision/model/spec.hpp"

namespace labctl::model {

namespace {

constexpr int k_max_teams = 250;       // one MAC byte, and room in a /16 pool
constexpr std::size_t k_max_vms = 89;  // static addresses .11-.99 stay below DHCP's .100
constexpr std::size_t k_max_networks = 32;

void check_named(Reader& reader, const Loc& loc, const std::string& what, const std::string& name) {
  if (std::string complaint = check_name(what, name); !complaint.empty()) {
    reader.error(loc, complaint);
  }
}

struct InstanceEntry {
  Instance instance;
  Loc port_loc;
  bool port_given = false;
};

InstanceEntry read_instance(Reader& reader, const Field& item, const LabSpec& spec) {
  InstanceEntry entry;
  Instance& instance = entry.instance;
  if (!reader.check_map(item, {"name", "version", "db", "port", "env", "memory"})) {
    return entry;
  }
  instance.name = reader.required_text(item, "name");
  check_named(reader, item.child("name").loc, "instance name", instance.name);
  instance.version = reader.required_text(item, "version");
  const Loc version_at = item.child("version").loc;
  instance.version_site = {reader.diag().file(), version_at.line, version_at.column,
                           version_at.path};
  const std::string bad_version = model::check_version(instance.version);
  if (item.child("version").present() && !bad_version.empty()) {
    reader.error(item.child("version").loc, bad_version);
  }
  instance.db =
      static_cast<DbKind>(reader.choice(item.child("db"), {"postgresql", "mariadb", "h2"}, 0));
  instance.env =
      static_cast<EnvScheme>(reader.choice(item.child("env"), {"auto", "current", "legacy"}, 0));
  const Field memory = item.child("memory");
  instance.memory = reader.size(memory).value_or(spec.lab.instance_memory);
  if (memory.present()) {
    check_instance_memory(reader, memory.loc, instance.memory);
  }
  instance.image = spec.lab.squash_image;
  const Field port = item.child("port");
  entry.port_loc = port.loc;
  if (port.present()) {
    entry.port_given = true;
    instance.port =
        static_cast<int>(reader.integer(port, k_lowest_instance_port, k_highest_instance_port)
                             .value_or(k_first_instance_port));
  }
  return entry;
}

void assign_ports(Reader& reader, std::vector<InstanceEntry>& entries, const std::string& vm) {
  std::set<int> used;
  for (const InstanceEntry& entry : entries) {
    if (entry.port_given) {
      used.insert(entry.instance.port);
    }
  }
  int next = k_first_instance_port;  // ports are given in order: each search starts here
  for (InstanceEntry& entry : entries) {
    if (!entry.port_given) {
      next = next_free_port(used, next);
      if (next == 0) {
        reader.error(entry.port_loc, fmt::format("no free port left for instance '{}' on {}",
                                                 entry.instance.name, vm));
        return;
      }
      entry.instance.port = next;
      used.insert(next);
    }
  }
}

// Names and explicit ports are unique on a VM; hash maps keep a long list linear.
struct InstanceIndex {
  std::unordered_set<std::string> names;
  std::unordered_map<int, std::string> ports;  // explicit port -> instance name

  void add(Reader& reader, const Field& item, const InstanceEntry& entry, const std::string& vm) {
    const Instance& mine = entry.instance;
    if (!names.insert(mine.name).second) {
      reader.error(item.child("name").loc,
                   fmt::format("duplicate instance name '{}' on {}", mine.name, vm));
      return;
    }
    if (!entry.port_given) {
      return;
    }
    const auto [it, fresh] = ports.emplace(mine.port, mine.name);
    if (!fresh) {
      reader.error(entry.port_loc, port_taken_complaint(mine.port, it->second, vm));
    }
  }
};

}  // namespace

std::vector<Instance> read_instances(Reader& reader, const Field& field, const std::string& vm,
                                     const LabSpec& spec) {
  std::vector<InstanceEntry> entries;
  InstanceIndex index;
  for (const Field& item : reader.items(field)) {
    entries.push_back(read_instance(reader, item, spec));
    index.add(reader, item, entries.back(), vm);
  }
  assign_ports(reader, entries, vm);
  std::vector<Instance> out;
  out.reserve(entries.size());
  for (const InstanceEntry& entry : entries) {
    out.push_back(entry.instance);
  }
  return out;
}

void check_instance_memory(Reader& reader, const Loc& loc, Bytes memory) {
  if (memory < k_min_instance_memory || memory % k_mib != 0) {
    reader.error(loc, fmt::format("instance memory {} is below {} or not a whole number of MiB "
                                  "(Squash TM documents 1GiB as its minimum)",
                                  format_size(memory), format_size(k_min_instance_memory)));
  }
}

// Hyper-V assigns memory in 2 MiB units (and refuses other sizes); libvirt takes any size.
// Checked for every lab, whatever its hosts: a lab without hosts runs wherever --connect
// points, so a lab file that validates must mean the same on every backend.
void check_memory_unit(Reader& reader, const LabSpec& spec, const Loc& loc, Bytes memory) {
  const BackendLimits* coarsest = coarsest_memory(spec.backends.all);
  if (coarsest != nullptr && memory % coarsest->memory_unit != 0) {
    reader.error(
        loc, fmt::format("memory {} is not a multiple of {}, the unit {} assigns "
                         "memory in",
                         format_size(memory), format_size(coarsest->memory_unit), coarsest->name));
  }
}

VmShape read_shape(Reader& reader, const Field& field, const LabSpec& spec) {
  VmShape shape;
  const Field memory = field.child("memory");
  shape.memory = reader.size(memory);
  if (shape.memory && *shape.memory > spec.lab.memory_cap) {
    reader.error(memory.loc,
                 fmt::format("memory {} exceeds the classroom's cap of {}",
                             format_size(*shape.memory), format_size(spec.lab.memory_cap)));
  } else if (shape.memory) {
    check_memory_unit(reader, spec, memory.loc, *shape.memory);
  }
  if (const auto vcpus = reader.integer(field.child("vcpus"), 1, 64)) {
    shape.vcpus = static_cast<int>(*vcpus);
  }
  shape.disk = reader.size(field.child("disk"));
  return shape;
}

namespace {

void read_network_kind(Reader& reader, const Field& field, NetworkSpec& net) {
  const bool addressed = net.kind == NetworkKind::nat || net.kind == NetworkKind::isolated;
  const Field bridge = field.child("bridge");
  if (addressed && bridge.present()) {
    reader.error(bridge.loc,
                 "bridge: names an existing device (kind bridge or ovs); use "
                 "bridge_name: to name the device labctl creates");
  }
  if (!addressed && field.child("bridge_name").present()) {
    reader.error(field.child("bridge_name").loc, "bridge_name: is for kind nat or isolated");
  }
  if (!addressed) {
    net.bridge = reader.required_text(field, "bridge");
    static const std::regex device("^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$");
    if (bridge.present() && !std::regex_match(net.bridge, device)) {
      reader.error(bridge.loc, fmt::format("invalid bridge device '{}' (letters, digits, '_', "
                                           "'.' and '-', at most 15 characters)",
                                           net.bridge));
    }
  }
  const Field vlan = field.child("vlan");
  if (net.kind == NetworkKind::ovs) {
    net.vlan = static_cast<int>(reader.integer(vlan, 1, 4094).value_or(0));
  } else if (vlan.present()) {
    reader.error(vlan.loc, "vlan: is for kind ovs only");
  }
}

NetworkSpec read_network(Reader& reader, const std::string& key, const Field& field) {
  NetworkSpec net;
  net.key = key;
  net.loc = field.loc;
  check_named(reader, field.loc, "network key", key);
  if (!field.present()) {
    reader.error(field.loc, "missing required key 'kind'");
    return net;
  }
  if (!reader.check_map(field, {"kind", "bridge", "vlan", "subnet", "bridge_name"})) {
    return net;
  }
  if (!field.child("kind").present()) {
    reader.error(field.loc, "missing required key 'kind'");
  }
  net.kind = static_cast<NetworkKind>(
      reader.choice(field.child("kind"), {"nat", "isolated", "bridge", "ovs"}, 0));
  read_network_kind(reader, field, net);
  net.subnet_loc = field.child("subnet").loc;
  net.subnet_pattern = reader.text(field.child("subnet"), {});
  net.bridge_pattern = reader.text(field.child("bridge_name"), net.bridge_pattern);
  return net;
}

std::vector<std::string> read_vm_networks(Reader& reader, const Field& field, const LabSpec& spec) {
  std::vector<std::string> all;
  for (const NetworkSpec& net : spec.networks) {
    all.push_back(net.key);
  }
  if (!field.present()) {
    return all;
  }
  std::vector<std::string> keys;
  std::unordered_set<std::string> listed;
  for (const Field& item : reader.items(field)) {
    const std::string key = reader.text(item, {});
    if (std::find(all.begin(), all.end(), key) == all.end()) {
      const auto near = closest(key, all);
      reader.error(item.loc,
                   near ? fmt::format("unknown network '{}' (did you mean '{}'?)", key, *near)
                        : fmt::format("unknown network '{}'", key));
    } else if (!listed.insert(key).second) {
      reader.error(item.loc, fmt::format("network '{}' is listed twice", key));
    }
    keys.push_back(key);
  }
  return keys;
}

VmSpec read_vm(Reader& reader, const std::string& key, const Field& field, const LabSpec& spec) {
  VmSpec vm;
  vm.key = key;
  vm.loc = field.loc;
  check_named(reader, field.loc, "VM name", key);
  if (field.present() &&
      !reader.check_map(field, {"networks", "memory", "vcpus", "disk", "instances"})) {
    return vm;
  }
  vm.networks = read_vm_networks(reader, field.child("networks"), spec);
  vm.shape = read_shape(reader, field, spec);
  vm.shape.instances = read_instances(reader, field.child("instances"), key, spec);
  return vm;
}

}  // namespace

void read_template(Reader& reader, const Field& root, LabSpec& spec) {
  const Field field = root.child("template");
  if (!field.present()) {
    reader.error(field.loc, "missing required key");
    return;
  }
  if (!reader.check_map(field, {"networks", "vms"})) {
    return;
  }
  // Counts are checked before the entries are read: every VM is checked against the networks.
  const Field networks = field.child("networks");
  spec.networks_loc = networks.loc;
  if (networks.node.IsMap() && networks.node.size() > k_max_networks) {
    reader.error(networks.loc, fmt::format("at most {} networks per team", k_max_networks));
    return;
  }
  for (const auto& [key, value] : reader.entries(networks)) {
    spec.networks.push_back(read_network(reader, key, value));
  }
  const Field vms = field.child("vms");
  if (vms.node.IsMap() && vms.node.size() > k_max_vms) {
    reader.error(vms.loc, fmt::format("at most {} VMs per team", k_max_vms));
    return;
  }
  for (const auto& [key, value] : reader.entries(vms)) {
    spec.vms.push_back(read_vm(reader, key, value, spec));
  }
  if (spec.vms.empty()) {
    reader.error(vms.loc, "at least one VM is required");
  }
}

namespace {

void read_team_names(Reader& reader, const Field& field, LabSpec& spec) {
  const Field count = field.child("count");
  const Field names = field.child("names");
  if (count.present() == names.present()) {
    reader.error(field.loc, "give exactly one of count: or names:");
    return;
  }
  if (count.present()) {
    const auto n = reader.integer(count, 1, k_max_teams).value_or(0);
    for (long long i = 1; i <= n; ++i) {
      spec.team_names.push_back(fmt::format("team{}", i));
    }
    return;
  }
  // The count first: a list far too long is refused before any of it is read.
  const std::size_t listed = names.node.IsSequence() ? names.node.size() : 0;
  if (listed > k_max_teams) {
    reader.error(names.loc, fmt::format("give 1 to {} team names", k_max_teams));
    return;
  }
  std::unordered_set<std::string> seen;
  for (const Field& item : reader.items(names)) {
    const std::string name = reader.text(item, {});
    check_named(reader, item.loc, "team name", name);
    if (!seen.insert(name).second) {
      reader.error(item.loc, fmt::format("duplicate team name '{}'", name));
    }
    spec.team_names.push_back(name);
  }
  if (spec.team_names.empty()) {
    reader.error(names.loc, fmt::format("give 1 to {} team names", k_max_teams));
  }
}

VmOverride read_vm_override(Reader& reader, const std::string& key, const Field& field,
                            const LabSpec& spec) {
  VmOverride vm;
  vm.vm = key;
  vm.loc = field.loc;
  const bool known = std::any_of(spec.vms.begin(), spec.vms.end(),
                                 [&](const VmSpec& other) { return other.key == key; });
  if (!known) {
    std::vector<std::string> keys;
    std::transform(spec.vms.begin(), spec.vms.end(), std::back_inserter(keys),
                   [](const VmSpec& other) { return other.key; });
    const auto near = closest(key, keys);
    reader.error(field.loc, near ? fmt::format("unknown VM '{}' (did you mean '{}'?)", key, *near)
                                 : fmt::format("unknown VM '{}'", key));
  }
  if (field.present() && reader.check_map(field, {"memory", "vcpus", "disk", "instances"})) {
    vm.shape = read_shape(reader, field, spec);
    if (field.child("instances").present()) {
      vm.shape.instances = read_instances(reader, field.child("instances"), key, spec);
    }
  }
  return vm;
}

TeamOverride read_override(Reader& reader, const std::string& team, const Field& field,
                           const LabSpec& spec) {
  TeamOverride out;
  out.team = team;
  out.loc = field.loc;
  const auto& names = spec.team_names;
  if (std::find(names.begin(), names.end(), team) == names.end()) {
    const auto near = closest(team, names);
    reader.error(field.loc, near
                                ? fmt::format("unknown team '{}' (did you mean '{}'?)", team, *near)
                                : fmt::format("unknown team '{}'", team));
  }
  if (!field.present() || !reader.check_map(field, {"host", "vms"})) {
    return out;
  }
  const Field host = field.child("host");
  out.host = reader.text(host, {});
  out.host_loc = host.loc;
  const auto& hosts = spec.lab.hosts;
  const bool listed =
      std::any_of(hosts.begin(), hosts.end(), [&](const Host& h) { return h.uri == out.host; });
  if (host.present() && !hosts.empty() && !listed) {
    reader.error(host.loc, fmt::format("host '{}' is not in hosts:", out.host));
  } else if (host.present() && !is_safe_url(out.host, {})) {
    reader.error(host.loc,
                 fmt::format("invalid host URI '{}' (expected e.g. qemu:///system)", out.host));
  }
  for (const auto& [key, value] : reader.entries(field.child("vms"))) {
    if (reader.diag().failed()) {
      break;  // the first error is the one reported: the rest of a long list is not read
    }
    out.vms.push_back(read_vm_override(reader, key, value, spec));
  }
  return out;
}

}  // namespace

void read_teams(Reader& reader, const Field& root, LabSpec& spec) {
  const Field field = root.child("teams");
  spec.teams_loc = field.loc;
  if (!field.present()) {
    reader.error(field.loc, "missing required key");
    return;
  }
  if (!reader.check_map(field, {"count", "names", "overrides"})) {
    return;
  }
  read_team_names(reader, field, spec);
  for (const auto& [team, value] : reader.entries(field.child("overrides"))) {
    if (reader.diag().failed()) {
      break;  // the first error is the one reported: the rest of a long list is not read
    }
    spec.overrides.push_back(read_override(reader, team, value, spec));
  }
}

}  // namespace labctl::model
