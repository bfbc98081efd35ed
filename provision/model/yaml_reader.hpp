#pragma once

// Reading a lab file's YAML tree with locations. Internal to the model module (the only
// yaml-cpp user). The first error wins: readers keep going with defaults after an error so
// the code reads straight, and the loader returns Diagnostics::first() at the end.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "provision/model/lab.hpp"
#include "provision/result.hpp"

namespace labctl::model {

// Where a value came from: 1-based line and column, and the dotted key path.
struct Loc {
  int line = 1;
  int column = 1;
  std::string path;
};

class Diagnostics {
 public:
  explicit Diagnostics(std::string file) : m_file(std::move(file)) {}
  void error(const Loc& loc, const std::string& message);
  bool failed() const { return m_first.has_value(); }
  Error first() const { return m_first.value_or(Error::lab(m_file + ": unknown error")); }
  const std::string& file() const { return m_file; }

 private:
  std::string m_file;
  std::optional<Error> m_first;
};

// A node plus its location. A missing or null node is "absent": optional keys take their
// default. Location of an absent node is its parent's, so "missing key" errors point there.
struct Field {
  YAML::Node node;
  Loc loc;

  bool present() const { return node.IsDefined() && !node.IsNull(); }
  Field child(const std::string& key) const;
  Field item(std::size_t index) const;
};

Loc loc_of(const YAML::Mark& mark, const std::string& path, const Loc& fallback);
std::string join(const std::string& path, const std::string& key);

class Reader {
 public:
  explicit Reader(Diagnostics& diagnostics) : m_diag(diagnostics) {}
  Diagnostics& diag() { return m_diag; }
  void error(const Loc& loc, const std::string& message) { m_diag.error(loc, message); }

  // Unknown keys, duplicate keys, non-string keys. False when `field` is not a mapping.
  bool check_map(const Field& field, const std::vector<std::string>& known);
  // Entries of a mapping in file order, with the key's location (unique keys only).
  std::vector<std::pair<std::string, Field>> entries(const Field& field);
  std::vector<Field> items(const Field& field);  // a list's elements ("expected a list")

  std::optional<std::string> scalar(const Field& field);  // nullopt when absent or wrong type
  std::string text(const Field& field, const std::string& fallback);
  std::string required_text(const Field& parent, const std::string& key);
  std::optional<Bytes> size(const Field& field);
  std::optional<long long> integer(const Field& field, long long min, long long max);
  // Whole seconds: `90`, `90s`, `5m`, `1h`; between min and max.
  std::optional<std::chrono::seconds> duration(const Field& field, std::chrono::seconds min,
                                               std::chrono::seconds max);
  std::vector<std::string> text_list(const Field& field);
  // One of `choices` (the lab-file spellings); index into choices, or `fallback`.
  int choice(const Field& field, const std::vector<std::string>& choices, int fallback);

 private:
  Diagnostics& m_diag;
};

}  // namespace labctl::model
