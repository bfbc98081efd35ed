#include "provision/apply/guest.hpp"

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "cloud-init/seed_iso.hpp"
#include "provision/apply/stack_secrets.hpp"

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

GuestMaterializer::GuestMaterializer(const model::Lab& lab, sys::StateDir state,
                                     GuestOptions options)
    : m_lab(lab), m_state(std::move(state)), m_options(std::move(options)) {}

Result<images::ImagePaths> GuestMaterializer::image() {
  std::lock_guard lock(m_image_mutex);
  if (!m_image) {
    sys::SystemRunner runner;
    images::CurlHttpClient http;
    auto paths = images::ensure_image(m_lab.image, m_options.images, runner, http);
    if (!paths) {
      return paths.error();
    }
    m_image = *paths;
  }
  return *m_image;
}

Result<std::string> GuestMaterializer::base_file(plan::Role role) {
  auto paths = image();
  if (!paths) {
    return paths.error();
  }
  const std::string& file = role == plan::Role::base_kernel   ? paths->kernel
                            : role == plan::Role::base_initrd ? paths->initrd
                                                              : paths->disk;
  if (file.empty()) {
    return Error::failure(fmt::format("image {} has no {} (it boots from its disk)",
                                      m_lab.image.name, plan::to_string(role)));
  }
  return file;
}

Result<std::string> GuestMaterializer::seed_file(const model::Vm& vm) {
  auto admin = m_state.classroom_key();
  auto team = m_state.team_key(vm.team);
  auto host = m_state.host_key(vm.name);
  auto state = m_state.read_state();
  if (!admin || !team || !host || !state) {
    return !admin ? admin.error() : !team ? team.error() : !host ? host.error() : state.error();
  }
  model::Vm with_stack = vm;
  with_stack.instances = effective_instances(vm, *state);
  auto secrets = stack_secrets(m_state, vm, with_stack.instances);
  if (!secrets) {
    return secrets.error();
  }
  auto stack = squashtm::render_stack(squashtm::owner_of(m_lab.classroom, vm), with_stack,
                                      m_options.stack, *secrets);
  if (!stack) {
    return stack.error();
  }
  cloudinit::SeedInputs inputs;
  inputs.admin_public_key = admin->public_line;
  inputs.team_public_key = team->public_line;
  inputs.host_private_key = host->private_openssh;
  inputs.host_public_key = host->public_line;
  for (const squashtm::File& file : stack->files) {
    inputs.files.push_back({file.path, file.content, fmt::format("{:04o}", file.mode)});
  }
  const auto path = m_state.dir() / "seeds" / (vm.name + ".iso");
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  if (auto st = cloudinit::write_seed_iso(path, cloudinit::render_seed(m_lab, vm, inputs)); !st) {
    return st.error();
  }
  return path.string();
}

std::string GuestMaterializer::serial_log(const model::Vm& vm) {
  auto path = m_state.serial_log_path(vm.name);
  return path ? path->string() : std::string();
}

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
