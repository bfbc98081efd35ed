#include "provision/apply/guest_materializer.hpp"

#include <filesystem>

#include <fmt/format.h>

#include "cloud-init/seed_iso.hpp"
#include "provision/apply/stack_secrets.hpp"

namespace labctl::apply {

GuestMaterializer::GuestMaterializer(const model::Lab& lab, sys::StateDir state,
                                     GuestOptions options)
    : m_lab(lab), m_state(std::move(state)), m_options(std::move(options)) {}

Result<BaseImage> GuestMaterializer::image() {
  std::lock_guard lock(m_image_mutex);
  if (!m_image) {
    if (!m_options.base_image) {
      return Error::failure(fmt::format("image {}: no source for its files", m_lab.image.name));
    }
    auto paths = m_options.base_image();
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
  with_stack.instances = state->effective_instances(vm);
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

}  // namespace labctl::apply
