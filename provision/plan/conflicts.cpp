#include "provision/plan/conflicts.hpp"

#include <algorithm>
#include <tuple>

#include <fmt/format.h>

namespace labctl::plan {

using hv::Inventory;
using hv::Object;
using hv::ObjectKind;
using model::Lab;

namespace {

std::string kind_word(ObjectKind kind) {
  return kind == ObjectKind::domain ? "vm" : hv::to_string(kind);
}

// "a domain that is not labctl's", "a network of labctl classroom cd27"
std::string holder_of(const Object& other) {
  const std::string what = hv::to_string(other.kind);
  if (other.tag.classroom.empty()) {
    return fmt::format("a {} that is not labctl's", what);
  }
  return fmt::format("a {} of labctl classroom {}", what, other.tag.classroom);
}

std::string identity_holder(const Lab& lab, const Object& object) {
  if (object.tag.identity.empty()) {
    return fmt::format("classroom {}'s, tagged before classrooms had identities", lab.classroom);
  }
  return fmt::format("classroom {} of another lab file (identity {})", lab.classroom,
                     object.tag.identity);
}

const Object* held(const Inventory& inventory, ObjectKind kind, const std::string& name) {
  for (const Object& other : inventory.others) {
    if (other.kind == kind && other.name == name) {
      return &other;
    }
  }
  return nullptr;
}

bool has_device(const Inventory& inventory, const std::string& name) {
  return inventory.devices && std::find(inventory.devices->begin(), inventory.devices->end(),
                                        name) != inventory.devices->end();
}

bool ours_uses_bridge(const Inventory& inventory, const std::string& bridge) {
  return std::any_of(inventory.objects.begin(), inventory.objects.end(), [&](const Object& o) {
    return o.kind == ObjectKind::network && o.bridge == bridge;
  });
}

class Finder {
 public:
  explicit Finder(const Inventory& inventory) : m_inv(inventory) {}

  void pool(const Lab& lab) {
    if (const Object* other = held(m_inv, ObjectKind::pool, lab.pool)) {
      add({"pool", lab.pool, "", "", holder_of(*other)});
    }
  }

  void vm(const model::Vm& vm) {
    if (const Object* other = held(m_inv, ObjectKind::domain, vm.name)) {
      add({"vm", vm.name, vm.team, vm.key, holder_of(*other)});
    }
  }

  void network(const model::Network& net) {
    if (const Object* other = held(m_inv, ObjectKind::network, net.name)) {
      add({"network", net.name, net.team, "", holder_of(*other)});
    }
    const bool created =
        net.kind == model::NetworkKind::nat || net.kind == model::NetworkKind::isolated;
    if (created && !net.bridge.empty()) {
      bridge(net);
    }
  }

  std::vector<Conflict> take() { return std::move(m_found); }

 private:
  // The bridge device a created network names must be free, or already its own.
  void bridge(const model::Network& net) {
    for (const Object& other : m_inv.others) {
      if (other.kind == ObjectKind::network && other.bridge == net.bridge) {
        add({"bridge", net.bridge, net.team, "",
             fmt::format("used by network {}, {}", other.name, holder_of(other))});
        return;
      }
    }
    if (has_device(m_inv, net.bridge) && !ours_uses_bridge(m_inv, net.bridge)) {
      add({"bridge", net.bridge, net.team, "", "a host network device that is not labctl's"});
    }
  }

  void add(Conflict conflict) { m_found.push_back(std::move(conflict)); }

  const Inventory& m_inv;
  std::vector<Conflict> m_found;
};

}  // namespace

std::vector<const Object*> adoptable_objects(const Lab& lab, const Inventory& inventory) {
  std::vector<const Object*> found;
  for (const Object& object : inventory.objects) {
    const bool tagged = object.kind == ObjectKind::domain || object.kind == ObjectKind::network;
    if (tagged && (object.tag.identity.empty() || object.tag.identity != lab.identity)) {
      found.push_back(&object);
    }
  }
  return found;
}

std::vector<Conflict> ownership_conflicts(const Lab& lab, const Inventory& inventory) {
  std::vector<Conflict> found;
  for (const Object* object : adoptable_objects(lab, inventory)) {
    found.push_back({kind_word(object->kind), object->name, object->tag.team, "",
                     identity_holder(lab, *object), true});
  }
  std::sort(found.begin(), found.end(), [](const Conflict& a, const Conflict& b) {
    return std::tie(a.kind, a.name) < std::tie(b.kind, b.name);
  });
  return found;
}

std::vector<Conflict> find_conflicts(const Lab& lab, const Inventory& inventory,
                                     const Scope& scope) {
  Finder finder(inventory);
  finder.pool(lab);
  for (const model::Team& team : lab.teams) {
    if (!scope.covers(team.name)) {
      continue;
    }
    for (const model::Network& net : team.networks) {
      finder.network(net);
    }
    for (const model::Vm& vm : team.vms) {
      finder.vm(vm);
    }
  }
  std::vector<Conflict> found = finder.take();
  for (Conflict& conflict : ownership_conflicts(lab, inventory)) {
    found.push_back(std::move(conflict));
  }
  return found;
}

Status refuse_conflicts(const std::vector<Conflict>& conflicts, const std::string& uri,
                        bool adopt) {
  std::string listed;
  bool foreign = false;
  bool adoptable = false;
  for (const Conflict& conflict : conflicts) {
    if (!(adopt && conflict.adoptable)) {
      listed += fmt::format("\n  {} {}: {}", conflict.kind, conflict.name, conflict.holder);
      foreign = foreign || !conflict.adoptable;
      adoptable = adoptable || conflict.adoptable;
    }
  }
  if (listed.empty()) {
    return {};
  }
  std::string advice;
  if (foreign) {
    advice +=
        "\n  labctl never redefines, starts or deletes what is not its own: remove or rename "
        "it on the host, or give the classroom another name.";
  }
  if (adoptable) {
    advice +=
        "\n  If this lab file is now the classroom's, give --adopt: its objects are re-tagged "
        "with this lab file's identity (the other lab file then no longer owns them).";
  }
  return Error::failure(
      fmt::format("{}: refusing to change anything, names the classroom needs are held:{}{}", uri,
                  listed, advice));
}

Status check_bridges(const Lab& lab, const Inventory& inventory, const Scope& scope) {
  if (!inventory.devices) {
    return {};
  }
  std::string missing;
  for (const model::Team& team : lab.teams) {
    for (const model::Network& net : team.networks) {
      const bool joins =
          net.kind == model::NetworkKind::bridge || net.kind == model::NetworkKind::ovs;
      if (scope.covers(team.name) && joins && !has_device(inventory, net.bridge)) {
        missing += fmt::format("\n  network {} ({}) joins {}", net.name, model::to_string(net.kind),
                               net.bridge);
      }
    }
  }
  if (missing.empty()) {
    return {};
  }
  return Error::failure(fmt::format(
      "{}: bridges that the lab joins do not exist on {}:{}\nlabctl never creates them: create "
      "them on the host (Hyper-V: an External switch), or name an existing one in `bridge:`",
      lab.file, inventory.host, missing));
}

}  // namespace labctl::plan
