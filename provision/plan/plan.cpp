#include "provision/plan/plan.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "provision/model/access.hpp"
#include "provision/plan/conflicts.hpp"

namespace labctl::plan {

using hv::Inventory;
using hv::Object;
using hv::ObjectKind;
using model::Lab;
using model::Team;
using model::Vm;

namespace {

// Creates run in this order; deletes in the reverse one.
int phase_of(Role role) {
  switch (role) {
    case Role::network:
      return 0;
    case Role::pool:
      return 1;
    case Role::base_disk:
    case Role::base_kernel:
    case Role::base_initrd:
      return 2;
    case Role::seed:
    case Role::disk:
      return 3;
    case Role::domain:
      return 4;
    case Role::forward:
      return 5;
  }
  return 6;
}

Action make(Op op, Role role, std::string name, std::string reason) {
  Action action;
  action.op = op;
  action.role = role;
  action.name = std::move(name);
  action.reason = std::move(reason);
  return action;
}

Action volume_action(Op op, Role role, const Lab& lab, const Vm& vm, const std::string& name,
                     std::string reason) {
  Action action = make(op, role, name, std::move(reason));
  action.pool = lab.pool;
  action.team = vm.team;
  action.vm = vm.key;
  return action;
}

// Volumes carry no tag: they belong to the team whose "<classroom>-<team>-" prefix they bear.
std::string team_of_volume(const Lab& lab, const Inventory& inventory, const std::string& name) {
  std::vector<std::string> teams;
  for (const Team& team : lab.teams) {
    teams.push_back(team.name);
  }
  for (const Object& object : inventory.objects) {
    if (!object.tag.team.empty()) {
      teams.push_back(object.tag.team);
    }
  }
  std::string best;
  for (const std::string& team : teams) {
    const std::string prefix = lab.classroom + "-" + team + "-";
    if (name.starts_with(prefix) && team.size() > best.size()) {
      best = team;
    }
  }
  return best;
}

std::string team_of(const Lab& lab, const Inventory& inventory, const Object& object) {
  if (object.kind == ObjectKind::volume) {
    return team_of_volume(lab, inventory, object.name);
  }
  return object.tag.team;
}

Role role_of(const Lab& lab, const Object& object) {
  switch (object.kind) {
    case ObjectKind::network:
      return Role::network;
    case ObjectKind::pool:
      return Role::pool;
    case ObjectKind::domain:
      return Role::domain;
    case ObjectKind::forward:
      return Role::forward;
    case ObjectKind::volume:
      break;
  }
  if (object.name == lab.base_volume) {
    return Role::base_disk;
  }
  if (object.name == lab.base_kernel) {
    return Role::base_kernel;
  }
  if (object.name == lab.base_initrd) {
    return Role::base_initrd;
  }
  return object.name.ends_with("-seed.iso") ? Role::seed : Role::disk;
}

std::string recreate_reason(const Vm& vm, const Object& domain) {
  if (domain.memory != 0 && domain.memory != vm.memory) {
    return fmt::format("recreate: memory changed {} -> {}", format_size(domain.memory),
                       format_size(vm.memory));
  }
  if (domain.vcpus != 0 && domain.vcpus != vm.vcpus) {
    return fmt::format("recreate: vcpus changed {} -> {}", domain.vcpus, vm.vcpus);
  }
  return fmt::format("recreate: spec changed {} -> {}", domain.tag.spec_hash, vm.spec_hash);
}

class Planner {
 public:
  Planner(const Lab& lab, const Inventory& inventory) : m_lab(lab), m_inv(inventory) {}

  void converge_classroom_objects() {
    if (m_inv.find(ObjectKind::pool, m_lab.pool) == nullptr) {
      add(make(Op::create, Role::pool, m_lab.pool, "create"));
    }
    add_base_volume(Role::base_disk, m_lab.base_volume);
    if (m_lab.image.boot == model::BootMode::kernel) {
      add_base_volume(Role::base_kernel, m_lab.base_kernel);
      add_base_volume(Role::base_initrd, m_lab.base_initrd);
    }
  }

  void converge_team(const Team& team) {
    for (const model::Network& net : team.networks) {
      converge_network(team, net);
    }
    for (const Vm& vm : team.vms) {
      converge_vm(vm);
    }
    converge_forward(team);
  }

  // Tagged objects of the scope that the lab does not describe.
  void delete_orphans(const Scope& scope) {
    for (const Object& object : m_inv.objects) {
      const std::string team = team_of(m_lab, m_inv, object);
      const bool in_scope = team.empty() ? scope.all : scope.covers(team);
      if (in_scope && ours(object) && !desired(object)) {
        add_delete(object, team, "delete: not in lab file");
      }
    }
  }

  void delete_all(const Scope& scope) {
    for (const Object& object : m_inv.objects) {
      const std::string team = team_of(m_lab, m_inv, object);
      if ((team.empty() ? scope.all : scope.covers(team)) && ours(object)) {
        add_delete(object, team, "delete");
      }
    }
  }

  void reset_vm(const Vm& vm) {
    const bool has_domain = m_inv.find(ObjectKind::domain, vm.name) != nullptr;
    for (auto [role, name] :
         {std::pair{Role::seed, vm.seed_volume}, {Role::disk, vm.disk_volume}}) {
      const bool exists = m_inv.find(ObjectKind::volume, name) != nullptr;
      add(volume_action(exists ? Op::recreate : Op::create, role, m_lab, vm, name,
                        exists ? "recreate: reset to first boot" : "create"));
    }
    add(domain_action(has_domain ? Op::recreate : Op::create, vm,
                      has_domain ? "recreate: reset to first boot" : "create"));
    add(domain_action(Op::start, vm, "start"));
  }

  Plan finish() {
    // Deletes first (domains before volumes before networks), then creates in phase order.
    // Creates keep the lab file's order; deletes come from the host's listing, whose order
    // libvirt does not keep stable, so they are sorted by name within their phase.
    std::stable_sort(m_actions.begin(), m_actions.end(), [](const Action& a, const Action& b) {
      const bool a_del = a.op == Op::remove;
      const bool b_del = b.op == Op::remove;
      if (a_del != b_del) {
        return a_del;
      }
      const int pa = a_del ? -phase_of(a.role) : phase_of(a.role) * 2 + (a.op == Op::start);
      const int pb = b_del ? -phase_of(b.role) : phase_of(b.role) * 2 + (b.op == Op::start);
      if (pa != pb) {
        return pa < pb;
      }
      return a_del && a.name < b.name;
    });
    return Plan{std::move(m_actions)};
  }

 private:
  void add(Action action) { m_actions.push_back(std::move(action)); }

  void add_base_volume(Role role, const std::string& name) {
    if (m_inv.find(ObjectKind::volume, name) == nullptr) {
      Action action = make(Op::create, role, name, "create");
      action.pool = m_lab.pool;
      add(std::move(action));
    }
  }

  void converge_network(const Team& team, const model::Network& net) {
    const Object* found = m_inv.find(ObjectKind::network, net.name);
    Action action = make(Op::create, Role::network, net.name, "create");
    action.team = team.name;
    if (found == nullptr) {
      add(std::move(action));
    } else if (found->tag.spec_hash != model::network_spec_hash(net)) {
      action.op = Op::recreate;
      action.reason = "recreate: network settings changed";
      add(std::move(action));
    } else if (found->state != hv::PowerState::running) {
      action.op = Op::start;
      action.reason = "start: network is inactive";
      add(std::move(action));
    }
  }

  // A team's published endpoints: forwarded when the lab has `access:` and the host can.
  void converge_forward(const Team& team) {
    const auto endpoints = model::forwarded_endpoints(m_lab, team.name);
    if (!m_inv.publishes || endpoints.empty()) {
      return;
    }
    const std::string name = hv::forward_name(m_lab.classroom, team.name);
    const Object* found = find_forward(name);
    Action action = make(Op::create, Role::forward, name, "create");
    action.team = team.name;
    if (found != nullptr && found->tag.spec_hash != model::endpoints_hash(endpoints)) {
      action.op = Op::recreate;
      action.reason = "recreate: published ports changed";
    } else if (found != nullptr && found->state != hv::PowerState::running) {
      action.op = Op::recreate;
      action.reason = "recreate: forwarding missing or shadowed on the host";
    } else if (found != nullptr) {
      return;
    }
    add(std::move(action));
  }

  // Forwarding rules of this classroom's name but another identity are not ours: the host
  // lists them, labctl never touches them.
  bool ours(const Object& object) const {
    return object.kind != ObjectKind::forward || object.tag.identity == m_lab.identity;
  }

  const Object* find_forward(const std::string& name) const {
    for (const Object& object : m_inv.objects) {
      if (object.kind == ObjectKind::forward && object.name == name && ours(object)) {
        return &object;
      }
    }
    return nullptr;
  }

  Action domain_action(Op op, const Vm& vm, std::string reason) const {
    Action action = make(op, Role::domain, vm.name, std::move(reason));
    action.team = vm.team;
    action.vm = vm.key;
    return action;
  }

  void converge_vm(const Vm& vm) {
    const Object* domain = m_inv.find(ObjectKind::domain, vm.name);
    const bool has_seed = m_inv.find(ObjectKind::volume, vm.seed_volume) != nullptr;
    const bool has_disk = m_inv.find(ObjectKind::volume, vm.disk_volume) != nullptr;
    std::string reason;
    if (domain == nullptr) {
      reason = "create";
    } else if (domain->tag.spec_hash != vm.spec_hash) {
      reason = recreate_reason(vm, *domain);
    } else if (!has_disk || !has_seed) {
      reason = fmt::format("recreate: {} volume missing", has_disk ? "seed" : "disk");
    }
    if (!reason.empty()) {
      const Op op = domain == nullptr ? Op::create : Op::recreate;
      add(volume_action(has_seed ? Op::recreate : Op::create, Role::seed, m_lab, vm, vm.seed_volume,
                        has_seed ? "recreate: " + reason_tail(reason) : "create"));
      add(volume_action(has_disk ? Op::recreate : Op::create, Role::disk, m_lab, vm, vm.disk_volume,
                        has_disk ? "recreate: " + reason_tail(reason) : "create"));
      add(domain_action(op, vm, reason));
      add(domain_action(Op::start, vm, "start"));
    } else if (domain->state != hv::PowerState::running) {
      add(domain_action(Op::start, vm, "start: VM is " + hv::to_string(domain->state)));
    }
  }

  static std::string reason_tail(const std::string& reason) {
    return reason == "create" ? "its VM is new" : reason.substr(reason.find(' ') + 1);
  }

  bool desired(const Object& object) const {
    switch (object.kind) {
      case ObjectKind::pool:
        return object.name == m_lab.pool;
      case ObjectKind::network:
        return find_network(object.name);
      case ObjectKind::domain:
        return find_vm(object.name, &Vm::name);
      case ObjectKind::forward:
        return !model::forwarded_endpoints(m_lab, object.tag.team).empty();
      case ObjectKind::volume:
        break;
    }
    return object.name == m_lab.base_volume ||
           (m_lab.image.boot == model::BootMode::kernel &&
            (object.name == m_lab.base_kernel || object.name == m_lab.base_initrd)) ||
           find_vm(object.name, &Vm::disk_volume) || find_vm(object.name, &Vm::seed_volume);
  }

  bool find_network(const std::string& name) const {
    for (const Team& team : m_lab.teams) {
      for (const model::Network& net : team.networks) {
        if (net.name == name) {
          return true;
        }
      }
    }
    return false;
  }

  bool find_vm(const std::string& name, std::string Vm::*field) const {
    for (const Team& team : m_lab.teams) {
      for (const Vm& vm : team.vms) {
        if (vm.*field == name) {
          return true;
        }
      }
    }
    return false;
  }

  void add_delete(const Object& object, const std::string& team, std::string reason) {
    Action action = make(Op::remove, role_of(m_lab, object), object.name, std::move(reason));
    action.team = team;
    action.pool = object.pool;
    add(std::move(action));
  }

  const Lab& m_lab;
  const Inventory& m_inv;
  std::vector<Action> m_actions;
};

}  // namespace

hv::ObjectKind Action::kind() const {
  switch (role) {
    case Role::network:
      return ObjectKind::network;
    case Role::pool:
      return ObjectKind::pool;
    case Role::domain:
      return ObjectKind::domain;
    case Role::forward:
      return ObjectKind::forward;
    default:
      return ObjectKind::volume;
  }
}

bool Scope::covers(const std::string& team) const {
  return all || std::find(teams.begin(), teams.end(), team) != teams.end();
}

Plan plan_up(const Lab& lab, const Inventory& inventory, const Scope& scope) {
  Planner planner(lab, inventory);
  planner.delete_orphans(scope);
  planner.converge_classroom_objects();
  for (const Team& team : lab.teams) {
    if (scope.covers(team.name)) {
      planner.converge_team(team);
    }
  }
  Plan plan = planner.finish();
  plan.conflicts = find_conflicts(lab, inventory, scope);
  return plan;
}

Plan plan_down(const Lab& lab, const Inventory& inventory, const Scope& scope) {
  Planner planner(lab, inventory);
  planner.delete_all(scope);
  Plan plan = planner.finish();
  // Only what this down would delete: another team's objects of another identity do not
  // stop `down team1`; classroom-wide ones (team "") count for --all only.
  for (Conflict& conflict : ownership_conflicts(lab, inventory)) {
    if (scope.all || (!conflict.team.empty() && scope.covers(conflict.team))) {
      plan.conflicts.push_back(std::move(conflict));
    }
  }
  return plan;
}

Plan plan_reset(const Lab& lab, const Inventory& inventory, const std::string& team_name,
                const std::string& vm_key) {
  Planner planner(lab, inventory);
  planner.converge_classroom_objects();
  if (const Team* team = lab.find_team(team_name)) {
    for (const Vm& vm : team->vms) {
      if (vm_key.empty() || vm.key == vm_key) {
        planner.reset_vm(vm);
      }
    }
  }
  Plan plan = planner.finish();
  plan.conflicts = find_conflicts(lab, inventory, Scope{{team_name}, false});
  return plan;
}

std::string to_string(Op op) {
  switch (op) {
    case Op::create:
      return "create";
    case Op::recreate:
      return "recreate";
    case Op::start:
      return "start";
    case Op::remove:
      return "delete";
  }
  return "?";
}

std::string to_string(Role role) {
  switch (role) {
    case Role::network:
      return "network";
    case Role::pool:
      return "pool";
    case Role::base_disk:
      return "base-disk";
    case Role::base_kernel:
      return "base-kernel";
    case Role::base_initrd:
      return "base-initrd";
    case Role::seed:
      return "seed";
    case Role::disk:
      return "disk";
    case Role::domain:
      return "vm";
    case Role::forward:
      return "access";
  }
  return "?";
}

std::string format_size(model::Bytes bytes) {
  struct Unit {
    model::Bytes size;
    const char* name;
  };
  for (const Unit unit :
       {Unit{model::k_gib, "GiB"}, Unit{model::k_mib, "MiB"}, Unit{1024, "KiB"}}) {
    if (bytes >= unit.size && bytes % unit.size == 0) {
      return fmt::format("{}{}", bytes / unit.size, unit.name);
    }
  }
  return fmt::format("{}B", bytes);
}

}  // namespace labctl::plan
