#include "hypervisors/hypervisor.hpp"

namespace labctl::hv {

std::string to_string(ObjectKind kind) {
  switch (kind) {
    case ObjectKind::network:
      return "network";
    case ObjectKind::pool:
      return "pool";
    case ObjectKind::volume:
      return "volume";
    case ObjectKind::domain:
      return "domain";
    case ObjectKind::forward:
      return "forward";
  }
  return "?";
}

std::string to_string(PowerState state) {
  switch (state) {
    case PowerState::off:
      return "off";
    case PowerState::running:
      return "running";
    case PowerState::paused:
      return "paused";
    case PowerState::other:
      return "other";
  }
  return "?";
}

Status Hypervisor::publish(const model::Lab&, const std::string&) {
  return Error::failure(uri() + " cannot publish endpoints (students' access)");
}

Status Hypervisor::unpublish(const model::Lab&, const std::string&) {
  return Error::failure(uri() + " cannot publish endpoints (students' access)");
}

std::string forward_name(const std::string& classroom, const std::string& team) {
  return classroom + "-" + team + "-access";
}

const Object* Inventory::find(ObjectKind kind, std::string_view object_name) const {
  for (const Object& object : objects) {
    if (object.kind == kind && object.name == object_name) {
      return &object;
    }
  }
  return nullptr;
}

}  // namespace labctl::hv
