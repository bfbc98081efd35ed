#include "stacks/squashtm/inspect.hpp"

#include <time.h>

#include <algorithm>
#include <ctime>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "stacks/squashtm/names.hpp"

namespace labctl::squashtm {

namespace {

using nlohmann::json;

std::string label(const json& labels, const std::string& key) {
  return labels.contains(key) && labels[key].is_string() ? labels[key].get<std::string>() : "";
}

model::DbKind db_of(const std::string& text) {
  if (text == "mariadb") {
    return model::DbKind::mariadb;
  }
  return text == "h2" ? model::DbKind::h2 : model::DbKind::postgresql;
}

model::EnvScheme env_of(const std::string& text) {
  if (text == "legacy") {
    return model::EnvScheme::legacy;
  }
  return text == "current" ? model::EnvScheme::current : model::EnvScheme::automatic;
}

// "2025-11-25T17:50:01.123456789Z" -> seconds since the epoch (UTC); -1 when unreadable.
std::time_t parse_started_at(const std::string& text) {
  std::tm tm{};
  if (text.size() < 19 ||
      ::strptime(text.substr(0, 19).c_str(), "%Y-%m-%dT%H:%M:%S", &tm) == nullptr) {
    return -1;
  }
  return ::timegm(&tm);
}

model::Instance instance_of(const json& labels) {
  model::Instance instance;
  instance.name = label(labels, "labctl.instance");
  instance.version = label(labels, "labctl.version");
  instance.image = label(labels, "labctl.image");
  instance.db = db_of(label(labels, "labctl.db"));
  instance.env = env_of(label(labels, "labctl.env"));
  const std::string port = label(labels, "labctl.port");
  const std::string memory = label(labels, "labctl.memory");
  instance.port = port.empty() ? 0 : std::stoi(port);
  instance.memory = memory.empty() ? model::k_instance_memory : std::stoull(memory);
  return instance;
}

InstanceStatus status_of(const json& container, std::chrono::system_clock::time_point now) {
  InstanceStatus status;
  status.instance = instance_of(container.at("Config").value("Labels", json::object()));
  status.container = container.value("Id", "");
  status.restarts = container.value("RestartCount", 0);
  const json& state = container.at("State");
  status.state = state.value("Status", "");
  if (state.contains("Health") && state["Health"].is_object()) {
    status.health = state["Health"].value("Status", "");
  }
  const std::time_t started = parse_started_at(state.value("StartedAt", ""));
  if (status.state == "running" && started > 0) {
    const auto age = std::chrono::system_clock::to_time_t(now) - started;
    status.uptime = std::chrono::seconds(std::max<std::time_t>(0, age));
  }
  return status;
}

}  // namespace

std::string label_filters(const Owner& owner, const std::string& role,
                          const std::string& instance) {
  std::string out = fmt::format(
      "--filter {} --filter {} --filter {}", sh_quote("label=labctl.classroom=" + owner.classroom),
      sh_quote("label=labctl.team=" + owner.team), sh_quote("label=labctl.vm=" + owner.vm));
  if (!role.empty()) {
    out += " --filter " + sh_quote("label=labctl.role=" + role);
  }
  if (!instance.empty()) {
    out += " --filter " + sh_quote("label=labctl.instance=" + instance);
  }
  return out;
}

Result<std::vector<InstanceStatus>> parse_inspect(const std::string& text,
                                                  std::chrono::system_clock::time_point now) {
  std::vector<InstanceStatus> out;
  try {
    const json containers = json::parse(text);
    for (const json& container : containers) {
      out.push_back(status_of(container, now));
    }
  } catch (const std::exception& e) {  // nlohmann::json errors and stoi/stoull on bad labels
    return Error::failure(fmt::format("cannot read docker inspect output: {}", e.what()));
  }
  std::sort(out.begin(), out.end(), [](const InstanceStatus& a, const InstanceStatus& b) {
    return a.instance.port < b.instance.port;
  });
  return out;
}

}  // namespace labctl::squashtm
