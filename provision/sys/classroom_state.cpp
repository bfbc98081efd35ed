#include "provision/sys/classroom_state.hpp"

#include <algorithm>
#include <set>

#include <fmt/format.h>

namespace labctl::sys {

using nlohmann::json;

namespace {

constexpr const char* k_default_image = "squashtest/squash-tm";

std::string vm_key(const model::Vm& vm) {
  return vm.team + "/" + vm.key;
}

bool in_lab_file(const model::Vm& vm, const std::string& name) {
  return std::any_of(vm.instances.begin(), vm.instances.end(),
                     [&](const model::Instance& i) { return i.name == name; });
}

// What a record keeps of an instance: the same whether it was just recorded or read back.
model::Instance recorded_form(const model::Instance& instance) {
  model::Instance out;
  out.name = instance.name;
  out.version = instance.version;
  out.port = instance.port;
  out.db = instance.db;
  out.image = instance.image;
  out.memory = instance.memory;
  return out;
}

json instance_json(const model::Instance& instance) {
  return {{"name", instance.name},   {"version", instance.version},
          {"port", instance.port},   {"db", model::to_string(instance.db)},
          {"image", instance.image}, {"memory", instance.memory}};
}

// Absent fields take the defaults of the labctl that wrote no such field yet.
model::Instance instance_from_json(const json& j) {
  model::Instance instance;
  instance.name = j.value("name", "");
  instance.version = j.value("version", "");
  instance.port = j.value("port", 0);
  instance.image = j.value("image", k_default_image);
  instance.memory = j.value("memory", model::k_instance_memory);
  const std::string db = j.value("db", "postgresql");
  instance.db = db == "h2"        ? model::DbKind::h2
                : db == "mariadb" ? model::DbKind::mariadb
                                  : model::DbKind::postgresql;
  return instance;
}

json changes_json(const InstanceChanges& changes) {
  json added = json::array();
  for (const model::Instance& instance : changes.added) {
    added.push_back(instance_json(instance));
  }
  return {{"added", added}, {"removed", changes.removed}};
}

InstanceChanges changes_from_json(const json& j) {
  InstanceChanges changes;
  for (const json& added : j.value("added", std::vector<json>{})) {
    changes.added.push_back(instance_from_json(added));
  }
  changes.removed = j.value("removed", std::vector<std::string>{});
  return changes;
}

// `doc[key]` into `out` when present; a value of another type throws json::type_error.
template <typename T>
void read_key(const json& doc, const char* key, T& out) {
  if (const auto it = doc.find(key); it != doc.end() && !it->is_null()) {
    it->get_to(out);
  }
}

ClassroomState fields_from_json(const json& doc, int version) {
  ClassroomState state;
  state.version = version;
  if (const auto it = doc.find("identity"); it != doc.end() && !it->is_null()) {
    state.identity = {it->value("id", ""), it->value("lab_file", "")};
  }
  read_key(doc, "placement", state.placement);
  if (const auto it = doc.find("instances"); it != doc.end() && !it->is_null()) {
    for (const auto& [vm, changes] : it->get<std::map<std::string, json>>()) {
      state.instances[vm] = changes_from_json(changes);
    }
  }
  read_key(doc, "addresses", state.addresses);
  read_key(doc, "standin", state.standin);
  if (const auto it = doc.find("access"); it != doc.end() && !it->is_null()) {
    state.access =
        RecordedAccess{it->value("first", 0), it->value("last", 0), it->value("listen", "")};
  }
  return state;
}

// Today's files have no version: they are version 1.
Result<int> version_of(const json& doc, const std::string& file) {
  const auto it = doc.find("version");
  if (it == doc.end()) {
    return 1;
  }
  if (!it->is_number_integer() || it->get<int>() < 1) {
    return Error::failure(
        fmt::format("{}: \"version\" is not a version number: {}", file, it->dump()));
  }
  const int version = it->get<int>();
  if (version > ClassroomState::k_version) {
    return Error::failure(
        fmt::format("{}: written by a newer labctl (state version {}; this labctl reads up to {}): "
                    "use that labctl for this classroom",
                    file, version, ClassroomState::k_version));
  }
  return version;
}

}  // namespace

std::vector<model::Instance> ClassroomState::effective_instances(const model::Vm& vm) const {
  const auto found = instances.find(vm_key(vm));
  if (found == instances.end()) {
    return vm.instances;
  }
  const std::set<std::string> removed(found->second.removed.begin(), found->second.removed.end());
  std::vector<model::Instance> result;
  for (const model::Instance& instance : vm.instances) {
    if (!removed.contains(instance.name)) {
      result.push_back(instance);
    }
  }
  result.insert(result.end(), found->second.added.begin(), found->second.added.end());
  return result;
}

void ClassroomState::record_added(const model::Vm& vm, const model::Instance& instance) {
  InstanceChanges& entry = instances[vm_key(vm)];
  std::erase_if(entry.added, [&](const model::Instance& i) { return i.name == instance.name; });
  entry.added.push_back(recorded_form(instance));
  // A lab file instance of that name stays listed as removed: this record now stands for it.
  std::erase(entry.removed, instance.name);
  if (in_lab_file(vm, instance.name)) {
    entry.removed.push_back(instance.name);
  }
}

void ClassroomState::record_removed(const model::Vm& vm, const std::string& name) {
  InstanceChanges& entry = instances[vm_key(vm)];
  const auto erased =
      std::erase_if(entry.added, [&](const model::Instance& i) { return i.name == name; });
  if (erased == 0 || in_lab_file(vm, name)) {
    entry.removed.push_back(name);
  }
}

void ClassroomState::record_addresses(const model::Vm& vm,
                                      const std::map<std::string, std::string>& learned) {
  addresses[vm.name] = learned;
}

std::string ClassroomState::nic_address(const model::Vm& vm, const model::Nic& nic) const {
  if (!nic.ip.empty()) {
    return nic.ip;
  }
  const auto mine = addresses.find(vm.name);
  if (mine == addresses.end()) {
    return "";
  }
  const auto ip = mine->second.find(nic.key);
  return ip == mine->second.end() ? "" : ip->second;
}

json to_json(const ClassroomState& state) {
  json doc = {{"version", ClassroomState::k_version}};
  if (!state.identity.id.empty() || !state.identity.lab_file.empty()) {
    doc["identity"] = {{"id", state.identity.id}, {"lab_file", state.identity.lab_file}};
  }
  if (!state.placement.empty()) {
    doc["placement"] = state.placement;
  }
  for (const auto& [vm, changes] : state.instances) {
    doc["instances"][vm] = changes_json(changes);
  }
  if (!state.addresses.empty()) {
    doc["addresses"] = state.addresses;
  }
  if (state.standin) {
    doc["standin"] = true;
  }
  if (state.access) {
    doc["access"] = {{"first", state.access->first},
                     {"last", state.access->last},
                     {"listen", state.access->listen}};
  }
  return doc;
}

Result<ClassroomState> parse_classroom_state(std::string_view text, const std::string& file) {
  const json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return Error::failure(file + ": not valid JSON");
  }
  if (!doc.is_object()) {
    return Error::failure(file + ": not a JSON object");
  }
  auto version = version_of(doc, file);
  if (!version) {
    return version.error();
  }
  // nlohmann::json reports a value of the wrong type by throwing: caught where it enters.
  try {
    return fields_from_json(doc, *version);
  } catch (const json::exception& e) {
    return Error::failure(
        fmt::format("{}: not a classroom state labctl can read: {}", file, e.what()));
  }
}

RecordedAccess access_record(const model::AccessSettings& access) {
  return {access.first_port, access.last_port, access.listen};
}

}  // namespace labctl::sys
