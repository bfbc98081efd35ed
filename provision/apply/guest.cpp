#include "provision/apply/guest.hpp"

#include <algorithm>
#include <set>

namespace labctl::apply {

namespace {

std::string vm_key(const model::Vm& vm) {
  return vm.team + "/" + vm.key;
}

model::Instance instance_from_json(const nlohmann::json& j) {
  model::Instance instance;
  instance.name = j.value("name", "");
  instance.version = j.value("version", "");
  instance.port = j.value("port", 0);
  instance.image = j.value("image", "squashtest/squash-tm");
  instance.memory = j.value("memory", model::k_instance_memory);
  const std::string db = j.value("db", "postgresql");
  instance.db = db == "h2"        ? model::DbKind::h2
                : db == "mariadb" ? model::DbKind::mariadb
                                  : model::DbKind::postgresql;
  return instance;
}

}  // namespace

std::vector<model::Instance> effective_instances(const model::Vm& vm, const nlohmann::json& state) {
  std::vector<model::Instance> result;
  const nlohmann::json entry = state.value("instances", nlohmann::json::object())
                                   .value(vm_key(vm), nlohmann::json::object());
  std::set<std::string> removed;
  for (const auto& name : entry.value("removed", nlohmann::json::array())) {
    removed.insert(name.get<std::string>());
  }
  for (const model::Instance& instance : vm.instances) {
    if (!removed.contains(instance.name)) {
      result.push_back(instance);
    }
  }
  for (const auto& added : entry.value("added", nlohmann::json::array())) {
    result.push_back(instance_from_json(added));
  }
  return result;
}

nlohmann::json instance_json(const model::Instance& instance) {
  return {{"name", instance.name},   {"version", instance.version},
          {"port", instance.port},   {"db", model::to_string(instance.db)},
          {"image", instance.image}, {"memory", instance.memory}};
}

void record_added(nlohmann::json& state, const model::Vm& vm, const model::Instance& instance) {
  auto& entry = state["instances"][vm_key(vm)];
  auto& added = entry["added"];
  if (!added.is_array()) {
    added = nlohmann::json::array();
  }
  // The new record replaces an earlier one of that name (an upgrade, a re-add); a lab file
  // instance of that name stays listed as removed, since this record now stands for it.
  added.erase(
      std::remove_if(added.begin(), added.end(),
                     [&](const nlohmann::json& j) { return j.value("name", "") == instance.name; }),
      added.end());
  added.push_back(instance_json(instance));
  const bool from_lab =
      std::any_of(vm.instances.begin(), vm.instances.end(),
                  [&](const model::Instance& i) { return i.name == instance.name; });
  auto& removed = entry["removed"];
  if (!removed.is_array()) {
    removed = nlohmann::json::array();
  }
  removed.erase(std::remove(removed.begin(), removed.end(), instance.name), removed.end());
  if (from_lab) {
    removed.push_back(instance.name);
  }
}

void record_removed(nlohmann::json& state, const model::Vm& vm, const std::string& name) {
  auto& entry = state["instances"][vm_key(vm)];
  auto& added = entry["added"];
  if (!added.is_array()) {
    added = nlohmann::json::array();
  }
  const auto before = added.size();
  added.erase(std::remove_if(added.begin(), added.end(),
                             [&](const nlohmann::json& j) { return j.value("name", "") == name; }),
              added.end());
  const bool from_lab = std::any_of(vm.instances.begin(), vm.instances.end(),
                                    [&](const model::Instance& i) { return i.name == name; });
  if (before == added.size() || from_lab) {
    entry["removed"].push_back(name);
  }
}

}  // namespace labctl::apply
