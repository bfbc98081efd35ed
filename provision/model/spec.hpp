#pragma once

// The lab file as read, before the team template is expanded: what the reader produced and
// where each value came from, so that expansion-time checks can point at the right line.
// Internal to the model module.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "provision/model/lab.hpp"
#include "provision/model/limits.hpp"
#include "provision/model/yaml_reader.hpp"

namespace labctl::model {

struct NetworkSpec {
  std::string key;
  Loc loc;  // the key in template.networks
  NetworkKind kind = NetworkKind::nat;
  std::string bridge;          // bridge/ovs: existing device
  int vlan = 0;                // ovs: base VLAN; team N gets vlan + N (0 = untagged)
  std::string subnet_pattern;  // "" = from the pool (nat/isolated) or none (bridge/ovs)
  Loc subnet_loc;
  std::string bridge_pattern = "{classroom}-{team}-{net}";  // nat/isolated device name
};

// Sizes and instances of a VM; unset fields fall back (override -> template -> defaults).
struct VmShape {
  std::optional<Bytes> memory;
  std::optional<int> vcpus;
  std::optional<Bytes> disk;
  std::optional<std::vector<Instance>> instances;  // ports already assigned
};

struct VmSpec {
  std::string key;
  Loc loc;
  std::vector<std::string> networks;  // template network keys, NIC order
  VmShape shape;
};

struct VmOverride {
  std::string vm;
  Loc loc;
  VmShape shape;
};

struct TeamOverride {
  std::string team;
  Loc loc;
  std::string host;
  Loc host_loc;
  std::vector<VmOverride> vms;
};

struct LabSpec {
  Lab lab;  // top-level settings filled in; teams empty
  std::vector<Loc> host_locs;
  std::optional<Subnet> pool;  // explicit `subnets:`
  Loc pool_loc;
  VmShape defaults;
  std::vector<std::string> team_names;
  Loc teams_loc;
  std::vector<TeamOverride> overrides;
  std::vector<NetworkSpec> networks;
  Loc networks_loc;
  std::vector<VmSpec> vms;
  Loc registry_loc;  // registry.address, else registry:
  Loc boot_loc;      // image.boot, else image:
  Backends backends;
};

// Reading (read_lab.cpp, read_template.cpp): schema, types, names, per-value rules.
void read_settings(Reader& reader, const Field& root, LabSpec& spec);
void read_teams(Reader& reader, const Field& root, LabSpec& spec);
void read_registry(Reader& reader, const Field& root, LabSpec& spec);
void read_access(Reader& reader, const Field& root, LabSpec& spec);
void read_template(Reader& reader, const Field& root, LabSpec& spec);
std::vector<Instance> read_instances(Reader& reader, const Field& field, const std::string& vm,
                                     const LabSpec& spec);
VmShape read_shape(Reader& reader, const Field& field, const LabSpec& spec);
// A VM's memory (and memory_cap, its default) is a whole number of the largest unit any
// backend sizes memory in (Hyper-V's 2 MiB).
void check_memory_unit(Reader& reader, const LabSpec& spec, const Loc& loc, Bytes memory);
// An instance's container: at least k_min_instance_memory, whole MiB (its heap is in MiB).
void check_instance_memory(Reader& reader, const Loc& loc, Bytes memory);

// Expansion (expand.cpp, expand_vm.cpp) and whole-lab checks (checks.cpp).
void expand_lab(Reader& reader, LabSpec& spec);
Vm expand_vm(Reader& reader, const LabSpec& spec, const Team& team, const VmSpec& vm_spec,
             int index);
// 12 hex digits over everything that forces recreating the VM (not its instances).
std::string spec_hash(const Lab& lab, const Vm& vm);
void check_lab(Reader& reader, const LabSpec& spec);
void check_registry(Reader& reader, const LabSpec& spec);
void check_access(Reader& reader, const LabSpec& spec);
// What the backends of the lab's hosts cannot do (limits.hpp): boot modes, network kinds,
// the prefix of a host-wide NAT. Nothing without spec.backends.of.
void check_backends(Reader& reader, const LabSpec& spec);

}  // namespace labctl::model
