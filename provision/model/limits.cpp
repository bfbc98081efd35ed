#include "provision/model/limits.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace labctl::model {

namespace {

template <typename T>
std::string refusal(const std::string& what, const std::vector<T>& supported, T wanted,
                    const std::string& backend) {
  if (std::find(supported.begin(), supported.end(), wanted) != supported.end()) {
    return "";
  }
  std::string choices;
  for (std::size_t i = 0; i < supported.size(); ++i) {
    const char* separator = i == 0 ? "" : i + 1 == supported.size() ? " or " : ", ";
    choices += separator + to_string(supported[i]);
  }
  return fmt::format("{} {} is not supported on {}: use {}", what, to_string(wanted), backend,
                     choices);
}

}  // namespace

int max_nat_networks(const BackendLimits& limits) {
  return limits.shared_nat.empty() ? 0 : 1;
}

const BackendLimits* coarsest_memory(const std::vector<BackendLimits>& all) {
  const auto it = std::max_element(all.begin(), all.end(), [](const auto& a, const auto& b) {
    return a.memory_unit < b.memory_unit;
  });
  return it == all.end() ? nullptr : &*it;
}

std::string boot_refusal(const BackendLimits& limits, BootMode mode) {
  return refusal("boot", limits.boot_modes, mode, limits.name);
}

std::string network_refusal(const BackendLimits& limits, NetworkKind kind) {
  return refusal("network kind", limits.network_kinds, kind, limits.name);
}

}  // namespace labctl::model
