#include "stacks/squashtm/yaml_out.hpp"

namespace labctl::squashtm {

std::string no_interpolation(const std::string& value) {
  std::string out;
  for (char c : value) {
    out += c == '$' ? "$$" : std::string(1, c);
  }
  return out;
}

void emit_value(YAML::Emitter& out, const std::string& value) {
  out << YAML::DoubleQuoted << no_interpolation(value);
}

void emit_entries(YAML::Emitter& out, const Entries& entries) {
  for (const auto& [key, value] : entries) {
    out << YAML::Key << key << YAML::Value;
    emit_value(out, value);
  }
}

void emit_labels(YAML::Emitter& out, const Labels& labels) {
  out << YAML::Key << "labels" << YAML::Value << YAML::BeginMap;
  emit_entries(out, {labels.begin(), labels.end()});
  out << YAML::EndMap;
}

void emit_logging(YAML::Emitter& out) {
  out << YAML::Key << "logging" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "driver" << YAML::Value << "json-file";
  out << YAML::Key << "options" << YAML::Value << YAML::BeginMap;
  emit_entries(out, {{"max-size", "10m"}, {"max-file", "3"}});
  out << YAML::EndMap << YAML::EndMap;
}

void begin_compose(YAML::Emitter& out, const std::string& comment) {
  out << YAML::Comment(comment) << YAML::BeginMap << YAML::Key << "version" << YAML::Value;
  emit_value(out, "2.4");
  out << YAML::Key << "services" << YAML::Value << YAML::BeginMap;
}

void begin_service(YAML::Emitter& out, const std::string& name, const std::string& image) {
  out << YAML::Key << name << YAML::Value << YAML::BeginMap << YAML::Key << "image" << YAML::Value;
  emit_value(out, image);
  out << YAML::Key << "restart" << YAML::Value << "unless-stopped";
}

std::string text_of(const YAML::Emitter& out) {
  return std::string(out.c_str()) + "\n";
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
