#include "provision/model/yaml_reader.hpp"

#include <algorithm>
#include <charconv>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "provision/model/names.hpp"
#include "provision/model/size.hpp"

namespace labctl::model {

namespace {
constexpr std::size_t k_max_scalar = 4096;
}  // namespace

void Diagnostics::error(const Loc& loc, const std::string& message) {
  if (!m_first) {
    const std::string path = loc.path.empty() ? "(top level)" : loc.path;
    m_first =
        Error::lab(fmt::format("{}:{}:{}: {}: {}", m_file, loc.line, loc.column, path, message));
    m_first->site = ErrorSite{m_file, loc.line, loc.column, loc.path};
  }
}

Loc loc_of(const YAML::Mark& mark, const std::string& path, const Loc& fallback) {
  if (mark.is_null() || mark.line < 0) {
    return {fallback.line, fallback.column, path};
  }
  return {mark.line + 1, mark.column + 1, path};
}

std::string join(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

Field Field::child(const std::string& key) const {
  if (!node.IsMap()) {
    return {YAML::Node(YAML::NodeType::Undefined), {loc.line, loc.column, join(loc.path, key)}};
  }
  const YAML::Node value = node[key];
  if (!value.IsDefined()) {
    // A missing key yields an "invalid" node that throws on most calls: replace it.
    return {YAML::Node(YAML::NodeType::Undefined), {loc.line, loc.column, join(loc.path, key)}};
  }
  return {value, loc_of(value.Mark(), join(loc.path, key), loc)};
}

Field Field::item(std::size_t index) const {
  const YAML::Node value = node[index];
  return {value, loc_of(value.Mark(), fmt::format("{}[{}]", loc.path, index), loc)};
}

bool Reader::check_map(const Field& field, const std::vector<std::string>& known) {
  if (!field.node.IsMap()) {
    error(field.loc, "expected a mapping");
    return false;
  }
  std::set<std::string> seen;
  for (const auto& pair : field.node) {
    const Loc key_loc = loc_of(pair.first.Mark(), field.loc.path, field.loc);
    if (!pair.first.IsScalar()) {
      error(key_loc, "keys must be plain words");
      return false;
    }
    const std::string key = pair.first.Scalar();
    const Loc loc{key_loc.line, key_loc.column, join(field.loc.path, key)};
    if (!seen.insert(key).second) {
      error(loc, "duplicate key");
    } else if (!known.empty() && !m_diag.failed() &&
               std::find(known.begin(), known.end(), key) == known.end()) {
      // Only the first error is kept: no suggestion is searched for the keys after it.
      const auto near = closest(key, known);
      error(loc, near ? fmt::format("unknown key (did you mean '{}'?)", *near) : "unknown key");
    }
  }
  return true;
}

std::vector<std::pair<std::string, Field>> Reader::entries(const Field& field) {
  std::vector<std::pair<std::string, Field>> out;
  if (!field.present() || !check_map(field, {})) {
    return out;
  }
  std::set<std::string> seen;
  for (const auto& pair : field.node) {
    const std::string key = pair.first.Scalar();
    if (seen.insert(key).second) {
      const Loc loc = loc_of(pair.first.Mark(), join(field.loc.path, key), field.loc);
      out.emplace_back(key, Field{pair.second, loc});
    }
  }
  return out;
}

std::vector<Field> Reader::items(const Field& field) {
  std::vector<Field> out;
  if (!field.present()) {
    return out;
  }
  if (!field.node.IsSequence()) {
    error(field.loc, "expected a list");
    return out;
  }
  for (std::size_t i = 0; i < field.node.size(); ++i) {
    out.push_back(field.item(i));
  }
  return out;
}

std::optional<std::string> Reader::scalar(const Field& field) {
  if (!field.present()) {
    return std::nullopt;
  }
  if (!field.node.IsScalar()) {
    error(field.loc, "expected a single value, not a list or mapping");
    return std::nullopt;
  }
  // Bounded so that no later check (std::regex is recursive) sees a pathological value.
  if (field.node.Scalar().size() > k_max_scalar) {
    error(field.loc, fmt::format("value is too long (at most {} characters)", k_max_scalar));
    return std::nullopt;
  }
  return field.node.Scalar();
}

std::string Reader::text(const Field& field, const std::string& fallback) {
  return scalar(field).value_or(fallback);
}

std::string Reader::required_text(const Field& parent, const std::string& key) {
  const Field field = parent.child(key);
  if (!field.present()) {
    error(field.loc, "missing required key");
    return {};
  }
  return text(field, {});
}

std::optional<Bytes> Reader::size(const Field& field) {
  const auto value = scalar(field);
  if (!value) {
    return std::nullopt;
  }
  auto parsed = parse_size(*value);
  if (!parsed) {
    error(field.loc, parsed.error().message);
    return std::nullopt;
  }
  return *parsed;
}

std::optional<long long> Reader::integer(const Field& field, long long min, long long max) {
  const auto value = scalar(field);
  if (!value) {
    return std::nullopt;
  }
  long long number = 0;
  const char* end = value->data() + value->size();
  const auto [rest, ec] = std::from_chars(value->data(), end, number);
  if (ec != std::errc() || rest != end || number < min || number > max) {
    error(field.loc,
          fmt::format("invalid number '{}' (expected an integer from {} to {})", *value, min, max));
    return std::nullopt;
  }
  return number;
}

std::optional<std::chrono::seconds> Reader::duration(const Field& field, std::chrono::seconds min,
                                                     std::chrono::seconds max) {
  const auto value = scalar(field);
  if (!value) {
    return std::nullopt;
  }
  long long number = 0;
  const char* end = value->data() + value->size();
  auto [rest, ec] = std::from_chars(value->data(), end, number);
  long long unit = 1;
  if (ec == std::errc() && rest + 1 == end) {
    const char suffix = *rest;
    unit = suffix == 's' ? 1 : suffix == 'm' ? 60 : suffix == 'h' ? 3600 : 0;
    rest = unit != 0 ? end : rest;
  }
  // Checked before the multiplication, which must not overflow.
  const bool in_range = ec == std::errc() && rest == end && number >= 0 &&
                        number <= max.count() / unit && number * unit >= min.count();
  if (!in_range) {
    error(field.loc, fmt::format("invalid duration '{}' (expected {}s to {}h: seconds, or a "
                                 "number with s, m or h, e.g. 90s, 5m)",
                                 *value, min.count(), max.count() / 3600));
    return std::nullopt;
  }
  return std::chrono::seconds(number * unit);
}

std::vector<std::string> Reader::text_list(const Field& field) {
  std::vector<std::string> out;
  for (const Field& item : items(field)) {
    if (auto value = scalar(item)) {
      out.push_back(*value);
    } else if (!item.present()) {
      error(item.loc, "empty list item");
    }
  }
  return out;
}

int Reader::choice(const Field& field, const std::vector<std::string>& choices, int fallback) {
  const auto value = scalar(field);
  if (!value) {
    return fallback;
  }
  for (std::size_t i = 0; i < choices.size(); ++i) {
    if (choices[i] == *value) {
      return static_cast<int>(i);
    }
  }
  error(field.loc,
        fmt::format("invalid value '{}' (expected {})", *value, fmt::join(choices, ", ")));
  return fallback;
}

}  // namespace labctl::model
