#include "provision/model/instance_rules.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace labctl::model {

int next_free_port(const std::set<int>& used, int from) {
  for (int port = from; port <= k_highest_instance_port; ++port) {
    if (used.count(port) == 0) {
      return port;
    }
  }
  return 0;
}

std::set<int> ports_of(const std::vector<Instance>& instances) {
  std::set<int> ports;
  for (const Instance& instance : instances) {
    ports.insert(instance.port);
  }
  return ports;
}

std::string port_range_complaint(int port) {
  if (port >= k_lowest_instance_port && port <= k_highest_instance_port) {
    return {};
  }
  return fmt::format("port {} is outside {}-{}", port, k_lowest_instance_port,
                     k_highest_instance_port);
}

std::string port_taken_complaint(int port, const std::string& other, const std::string& vm) {
  return fmt::format("port {} already used by instance '{}' on {}", port, other, vm);
}

std::string default_instance_name(const std::string& version,
                                  const std::vector<Instance>& existing) {
  std::string base = "v";
  for (char c : version) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    const bool upper = c >= 'A' && c <= 'Z';
    base += keep ? c : upper ? static_cast<char>(c - 'A' + 'a') : '-';
  }
  base = base.substr(0, 28);  // room for "-NN" within the 31 characters of a compose project
  while (base.back() == '-') {
    base.pop_back();  // a name may not end with '-'
  }
  const auto taken = [&](const std::string& name) {
    return std::any_of(existing.begin(), existing.end(),
                       [&](const Instance& i) { return i.name == name; });
  };
  std::string name = base;
  for (int n = 2; taken(name); ++n) {
    name = fmt::format("{}-{}", base, n);
  }
  return name;
}

bool stack_fits(const Vm& vm, const std::vector<Instance>& instances) {
  return stack_footprint(instances) <= vm.memory;
}

}  // namespace labctl::model
