#include "stacks/squashtm/yaml_out.hpp"

#include <fmt/format.h>

namespace labctl::squashtm {

std::string yaml_quote(const std::string& value) {
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') {
      out += '\\';
    } else if (c == '$') {
      out += '$';
    }
    out += c;
  }
  return out + "\"";
}

std::string render_map(const std::vector<std::pair<std::string, std::string>>& entries,
                       int indent) {
  std::string out;
  for (const auto& [key, value] : entries) {
    out += fmt::format("{:{}}{}: {}\n", "", indent, key, yaml_quote(value));
  }
  return out;
}

std::string render_labels(const Labels& labels, int indent) {
  return render_map({labels.begin(), labels.end()}, indent);
}

Labels owner_labels(const Owner& owner) {
  return {
      {"labctl.classroom", owner.classroom}, {"labctl.team", owner.team}, {"labctl.vm", owner.vm}};
}

Labels instance_labels(const Owner& owner, const model::Instance& instance) {
  Labels labels = owner_labels(owner);
  labels["labctl.instance"] = instance.name;
  labels["labctl.version"] = instance.version;
  labels["labctl.db"] = model::to_string(instance.db);
  labels["labctl.env"] = model::to_string(instance.env);
  labels["labctl.memory"] = std::to_string(instance.memory);
  labels["labctl.port"] = std::to_string(instance.port);
  labels["labctl.image"] = instance.image;
  return labels;
}

}  // namespace labctl::squashtm
