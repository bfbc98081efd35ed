#include "stacks/squashtm/names.hpp"

#include <regex>

#include <fmt/format.h>

namespace labctl::squashtm {

int Version::compare(const Version& other) const {
  const std::size_t n = std::max(numbers.size(), other.numbers.size());
  for (std::size_t i = 0; i < n; ++i) {
    const int a = i < numbers.size() ? numbers[i] : 0;
    const int b = i < other.numbers.size() ? other.numbers[i] : 0;
    if (a != b) {
      return a < b ? -1 : 1;
    }
  }
  return 0;
}

Result<Version> parse_version(std::string_view text) {
  static const std::regex pattern(
      R"(^([0-9]{1,4}(?:\.[0-9]{1,4}){1,3})((?:\.RELEASE)|(?:-[A-Za-z0-9]{1,16}))?$)");
  const std::string s(text);
  std::smatch match;
  if (!std::regex_match(s, match, pattern)) {
    return Error::usage(fmt::format(
        "unknown Squash TM version format '{}' (expected e.g. 6.0.0, 1.21.0 or 1.21.0.RELEASE)",
        s));
  }
  Version version;
  version.suffix = match[2].str();
  std::string numbers = match[1].str();
  std::size_t start = 0;
  while (start <= numbers.size()) {
    const std::size_t dot = numbers.find('.', start);
    const std::size_t end = dot == std::string::npos ? numbers.size() : dot;
    version.numbers.push_back(std::stoi(numbers.substr(start, end - start)));
    start = end + 1;
  }
  return version;
}

Status validate_instance_name(std::string_view name) {
  static const std::regex pattern("^[a-z][a-z0-9-]{0,30}$");
  if (!std::regex_match(std::string(name), pattern)) {
    return Error::usage(fmt::format(
        "bad instance name '{}': use a lower-case letter then up to 30 of [a-z0-9-]", name));
  }
  return {};
}

Status validate_image(std::string_view image) {
  static const std::regex pattern("^[a-z0-9][a-z0-9._/:-]{0,199}$");
  if (!std::regex_match(std::string(image), pattern)) {
    return Error::usage(fmt::format("bad image repository '{}'", image));
  }
  return {};
}

Status validate_instance(const model::Instance& instance) {
  if (auto s = validate_instance_name(instance.name); !s) {
    return s;
  }
  if (auto v = parse_version(instance.version); !v) {
    return v.error();
  }
  if (auto s = validate_image(instance.image); !s) {
    return s;
  }
  if (instance.port < 1024 || instance.port > 65535) {
    return Error::usage(
        fmt::format("instance '{}': port {} is outside 1024..65535", instance.name, instance.port));
  }
  if (instance.memory < 128 * model::k_mib) {
    return Error::usage(fmt::format("instance '{}': memory {} MiB is below 128 MiB", instance.name,
                                    instance.memory / model::k_mib));
  }
  return {};
}

model::EnvScheme effective_scheme(const model::Instance& instance) {
  if (instance.env != model::EnvScheme::automatic) {
    return instance.env;
  }
  auto version = parse_version(instance.version);
  return version && version->major() < 2 ? model::EnvScheme::legacy : model::EnvScheme::current;
}

std::string sh_quote(std::string_view word) {
  std::string quoted = "'";
  for (char c : word) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  quoted += '\'';
  return quoted;
}

}  // namespace labctl::squashtm
