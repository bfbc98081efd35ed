#pragma once

// The planner: a pure function from (expanded lab, inventory) to an ordered list of actions,
// each with a reason. `labctl plan` prints it; `up`, `down` and `reset` hand it to apply.

#include <string>
#include <vector>

#include "hypervisors/hypervisor.hpp"
#include "provision/model/lab.hpp"

namespace labctl::plan {

enum class Op { create, recreate, start, remove };

// What an action's object is for; apply uses it to know what to upload or render.
// forward: a team's published endpoints (students' access), after its VMs.
enum class Role { network, pool, base_disk, base_kernel, base_initrd, seed, disk, domain, forward };

struct Action {
  Op op = Op::create;
  Role role = Role::domain;
  std::string name;  // the object's name on the host
  std::string team;  // "" for classroom-wide objects
  std::string vm;    // the VM's key for seed/disk/domain actions
  std::string pool;  // volumes: their pool
  std::string
      reason;  // "create", "recreate: memory changed 1GiB -> 2GiB", "delete: not in lab file"

  hv::ObjectKind kind() const;
  bool operator==(const Action&) const = default;
};

// A name the classroom needs that something not ours holds (never touched), or one of the
// classroom's own objects tagged by another identity. `up` refuses while there is one;
// `--adopt` re-tags the adoptable ones (conflicts.hpp).
struct Conflict {
  std::string kind;        // "vm", "network", "pool", "bridge"
  std::string name;        // the name on the host
  std::string team;        // the team that needs it ("" for classroom-wide names)
  std::string vm;          // the VM's key, for "vm"
  std::string holder;      // who holds it, in words
  bool adoptable = false;  // the classroom's, by another identity or none: --adopt re-tags it

  bool operator==(const Conflict&) const = default;
};

struct Plan {
  std::vector<Action> actions;
  std::vector<Conflict> conflicts;
  bool empty() const { return actions.empty(); }  // nothing to do (conflicts aside)
};

// Which teams a command acts on. `all` also covers classroom-wide objects (pool, base image).
struct Scope {
  std::vector<std::string> teams;
  bool all = false;

  bool covers(const std::string& team) const;
};

// Converge the scope's teams to the lab: create what is missing, recreate what changed,
// start what is stopped, delete tagged objects of the scope that the lab no longer has.
// Each plan also lists its conflicts (conflicts.hpp: for down, only the ownership ones).
Plan plan_up(const model::Lab& lab, const hv::Inventory& inventory, const Scope& scope);

// Delete every tagged object of the scope (for `all`: the classroom's pool and base too).
Plan plan_down(const model::Lab& lab, const hv::Inventory& inventory, const Scope& scope);

// Back to first boot: the VMs' domains, disks and seeds recreated, then started.
Plan plan_reset(const model::Lab& lab, const hv::Inventory& inventory, const std::string& team,
                const std::string& vm_key);

std::string to_string(Op op);
std::string to_string(Role role);
std::string format_size(model::Bytes bytes);  // "2GiB", "1536MiB", "512KiB", "100B"

}  // namespace labctl::plan
