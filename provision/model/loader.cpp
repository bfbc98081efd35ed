#include "provision/model/loader.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "provision/model/spec.hpp"

namespace labctl::model {

namespace {

const std::vector<std::string> k_top_keys = {
    "classroom", "title",  "hosts",    "image",    "accelerator", "memory_cap", "admin_user",
    "subnets",   "docker", "squashtm", "timeouts", "defaults",    "teams",      "template"};

void read_and_expand(Reader& reader, const YAML::Node& document, LabSpec& spec) {
  const Field root{document, {1, 1, ""}};
  if (!root.present()) {
    reader.error(root.loc,
                 "the file is empty (expected a mapping with classroom:, teams: and "
                 "template:)");
    return;
  }
  if (!reader.check_map(root, k_top_keys)) {
    return;
  }
  read_settings(reader, root, spec);
  read_template(reader, root, spec);
  read_teams(reader, root, spec);
  if (reader.diag().failed()) {
    return;  // expansion needs a consistent spec
  }
  expand_lab(reader, spec);
  if (!reader.diag().failed()) {
    check_lab(reader, spec);
  }
}

}  // namespace

Result<Lab> parse_lab(const std::string& text, const std::string& file_name) {
  Diagnostics diagnostics(file_name);
  Reader reader(diagnostics);
  LabSpec spec;
  try {
    read_and_expand(reader, YAML::Load(text), spec);
  } catch (const YAML::Exception& e) {
    // Syntax errors surface here (and any yaml-cpp surprise while reading the tree).
    diagnostics.error(loc_of(e.mark, "yaml", {1, 1, ""}), e.msg);
  }
  if (diagnostics.failed()) {
    return diagnostics.first();
  }
  spec.lab.file = file_name;
  return std::move(spec.lab);
}

Result<Lab> load_lab(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    Error error =
        Error::lab(fmt::format("{}: cannot read the lab file: {}", path, std::strerror(errno)));
    error.site = ErrorSite{path};
    return error;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_lab(text.str(), path);
}

}  // namespace labctl::model
