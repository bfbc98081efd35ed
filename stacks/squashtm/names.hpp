#pragma once

// Validation of the names and versions that end up in compose files and shell commands, and
// the one quoting function every command string goes through.

#include <string>
#include <string_view>
#include <vector>

#include "provision/model/lab.hpp"
#include "provision/result.hpp"

namespace labctl::squashtm {

// A Squash TM version: "6.0.0", "1.19.2", "1.21.0.RELEASE", "7.1.0-RC1".
struct Version {
  std::vector<int> numbers;  // 2 to 4 numeric components
  std::string suffix;        // ".RELEASE", "-RC1" or ""

  int major() const { return numbers.empty() ? 0 : numbers.front(); }
  // Compares the numeric components only (suffixes do not order releases reliably).
  int compare(const Version& other) const;
};

Result<Version> parse_version(std::string_view text);

// Instance names become compose project names and DNS labels: [a-z][a-z0-9-]{0,30}.
Status validate_instance_name(std::string_view name);

// Docker repository names: lower case, digits, '.', '_', '-', '/', ':' (registry port).
Status validate_image(std::string_view image);

// Name, version, image, port (1024..65535) and memory (at least 128 MiB) of one instance.
Status validate_instance(const model::Instance& instance);

// The environment scheme the image expects: automatic picks legacy below major version 2.
model::EnvScheme effective_scheme(const model::Instance& instance);

// POSIX sh single-quoting: the result is always one word, whatever `word` contains.
std::string sh_quote(std::string_view word);

}  // namespace labctl::squashtm
