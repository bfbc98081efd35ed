#pragma once

// The safe name charset and the small text helpers the lab file loader needs. Names made of
// [a-z][a-z0-9-]* can go into libvirt XML, PowerShell and shell command lines unquoted, so
// every resource name labctl derives from them is safe too.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace labctl::model {

constexpr std::size_t k_max_name = 32;
constexpr std::size_t k_max_classroom = 12;
constexpr std::size_t k_max_bridge = 15;    // Linux IFNAMSIZ - 1
constexpr std::size_t k_max_hostname = 63;  // one DNS label

// "" when `name` is a valid name (team, vm, network key, instance, admin user), else the
// complaint: "invalid team name 'Red': use ...".
std::string check_name(std::string_view what, std::string_view name);
std::string check_classroom(std::string_view name);
// "" when `version` is a Squash TM version (an image tag such as 6.0.0 or 1.22.2.RELEASE),
// else the complaint.
std::string check_version(const std::string& version);

// URLs end up in cloud-init YAML, shell lines and PowerShell: true only for scheme://rest
// with no space, quote, backtick, '$' or other character that could break out. An empty
// `schemes` accepts any scheme.
bool is_safe_url(const std::string& text, const std::vector<std::string>& schemes);

// Damerau-Levenshtein (optimal string alignment) distance.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The closest candidate within 2 edits, if any (first one on ties).
std::optional<std::string> closest(std::string_view word,
                                   const std::vector<std::string>& candidates);

std::uint32_t fnv1a32(std::string_view text);
std::uint64_t fnv1a64(std::string_view text);

}  // namespace labctl::model
