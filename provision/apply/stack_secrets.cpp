#include "provision/apply/stack_secrets.hpp"

#include <fmt/format.h>

#include "stacks/squashtm/secrets.hpp"

namespace labctl::apply {

namespace {
std::string secret_name(const model::Vm& vm, const std::string& instance) {
  return fmt::format("{}-{}-db", vm.name, instance);
}
}  // namespace

Status forget_stack_secret(const sys::StateDir& state, const model::Vm& vm,
                           const std::string& instance) {
  return state.remove_secret(secret_name(vm, instance));
}

Result<squashtm::Secrets> stack_secrets(const sys::StateDir& state, const model::Vm& vm,
                                        const std::vector<model::Instance>& instances) {
  squashtm::Secrets secrets;
  for (const model::Instance& instance : instances) {
    const std::string name = secret_name(vm, instance.name);
    auto existing = state.read_secret(name);
    if (existing) {
      secrets[instance.name] = *existing;
      continue;
    }
    auto password = squashtm::generate_password();
    if (!password) {
      return password.error();
    }
    if (auto st = state.write_secret(name, *password); !st) {
      return st.error();
    }
    secrets[instance.name] = *password;
  }
  return secrets;
}

}  // namespace labctl::apply
