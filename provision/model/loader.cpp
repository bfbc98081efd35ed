#include "provision/model/loader.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include "provision/model/spec.hpp"

namespace labctl::model {

namespace {

const std::vector<std::string> k_top_keys = {"classroom",   "title",      "hosts",      "image",
                                             "accelerator", "memory_cap", "admin_user", "subnets",
                                             "docker",      "squashtm",   "timeouts",   "defaults",
                                             "teams",       "template",   "registry",   "access"};

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
  // Only the first error is reported: each step after a failed one would only cost time.
  for (auto read : {read_settings, read_template, read_teams}) {
    if (!reader.diag().failed()) {
      read(reader, root, spec);
    }
  }
  if (reader.diag().failed()) {
    return;  // expansion needs a consistent spec
  }
  expand_lab(reader, spec);
  if (!reader.diag().failed()) {
    check_lab(reader, spec);
  }
}

// Where a document's first node starts: the events of one document, all dropped but that.
class FirstNodeMark : public YAML::EventHandler {
 public:
  std::optional<YAML::Mark> mark;

  void OnDocumentStart(const YAML::Mark&) override { mark.reset(); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& m, YAML::anchor_t) override { seen(m); }
  void OnAlias(const YAML::Mark& m, YAML::anchor_t) override { seen(m); }
  void OnScalar(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                const std::string&) override {
    seen(m);
  }
  void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    seen(m);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    seen(m);
  }
  void OnMapEnd() override {}

 private:
  void seen(const YAML::Mark& m) {
    if (!mark) {
      mark = m;
    }
  }
};

// The one document of the file. yaml-cpp's Load() reads the first and drops the rest, which
// would silently ignore half of a file split by `---`. The parser is asked for two documents
// at most: YAML::LoadAll() never returns on some inputs (the fuzzer's ",+").
YAML::Node only_document(Reader& reader, const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  FirstNodeMark first;
  if (parser.HandleNextDocument(first) && parser.HandleNextDocument(first)) {
    reader.error(loc_of(first.mark.value_or(YAML::Mark::null_mark()), "", {1, 1, ""}),
                 "a second YAML document (after ---): a lab file is one document");
  }
  return YAML::Load(text);
}

Result<std::string> read_lab_file(const std::string& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec) {
    return Error::lab(fmt::format("{}: cannot read the lab file: {}", path, ec.message()));
  }
  if (!std::filesystem::is_regular_file(status)) {
    return Error::lab(
        fmt::format("{}: not a regular file (a lab file is a YAML file, not a "
                    "directory, device or pipe)",
                    path));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error::lab(fmt::format("{}: cannot read the lab file: {}", path, std::strerror(errno)));
  }
  // One byte more than allowed tells a file at the limit from a larger one.
  std::string text(k_max_lab_file + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) {
    return Error::lab(fmt::format("{}: cannot read the lab file", path));
  }
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > k_max_lab_file) {
    return Error::lab(
        fmt::format("{}: the lab file is larger than {} bytes (1 MiB), the most "
                    "labctl reads",
                    path, k_max_lab_file));
  }
  return text;
}

}  // namespace

Result<Lab> parse_lab(const std::string& text, const std::string& file_name,
                      const Backends& backends) {
  Diagnostics diagnostics(file_name);
  Reader reader(diagnostics);
  LabSpec spec;
  spec.backends = backends;
  try {
    const YAML::Node document = only_document(reader, text);
    if (!diagnostics.failed()) {
      read_and_expand(reader, document, spec);
    }
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

Result<Lab> load_lab(const std::string& path, const Backends& backends) {
  auto text = read_lab_file(path);
  if (!text) {
    Error error = text.error();
    error.site = ErrorSite{path};  // about the file as a whole: no line, column or key
    return error;
  }
  return parse_lab(*text, path, backends);
}

}  // namespace labctl::model
