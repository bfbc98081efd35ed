#include "provision/model/names.hpp"

#include <algorithm>
#include <regex>

#include <fmt/format.h>

namespace labctl::model {

namespace {
bool is_lower(char c) {
  return c >= 'a' && c <= 'z';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
}  // namespace

std::string check_name(std::string_view what, std::string_view name) {
  bool ok =
      !name.empty() && name.size() <= k_max_name && is_lower(name.front()) && name.back() != '-';
  for (char c : name) {
    ok = ok && (is_lower(c) || is_digit(c) || c == '-');
  }
  if (ok) {
    return {};
  }
  return fmt::format(
      "invalid {} '{}': use lower-case letters, digits and '-', starting with a letter, not "
      "ending with '-', at most {} characters",
      what, name, k_max_name);
}

std::string check_classroom(std::string_view name) {
  bool ok = !name.empty() && name.size() <= k_max_classroom && is_lower(name.front());
  for (char c : name) {
    ok = ok && (is_lower(c) || is_digit(c));
  }
  if (ok) {
    return {};
  }
  return fmt::format(
      "invalid classroom name '{}': use 1 to {} lower-case letters and digits, starting with a "
      "letter",
      name, k_max_classroom);
}

bool is_safe_url(const std::string& text, const std::vector<std::string>& schemes) {
  static const std::regex shape(R"(^([a-z][a-z0-9+.-]*)://[A-Za-z0-9._~:/?#\[\]@!&()*+,;=%-]+$)");
  std::smatch match;
  if (text.size() > 2048 || !std::regex_match(text, match, shape)) {
    return false;
  }
  return schemes.empty() ||
         std::find(schemes.begin(), schemes.end(), match[1].str()) != schemes.end();
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) {
    d[i][0] = i;
  }
  for (std::size_t j = 0; j <= b.size(); ++j) {
    d[0][j] = j;
  }
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

std::optional<std::string> closest(std::string_view word,
                                   const std::vector<std::string>& candidates) {
  // Very long words are not typos of our short keys; skip the quadratic work.
  if (word.size() > 64) {
    return std::nullopt;
  }
  std::optional<std::string> best;
  std::size_t best_distance = 3;
  for (const std::string& candidate : candidates) {
    const std::size_t distance = edit_distance(word, candidate);
    if (distance < best_distance && distance < candidate.size()) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

std::uint32_t fnv1a32(std::string_view text) {
  std::uint32_t hash = 2166136261U;
  for (unsigned char c : text) {
    hash = (hash ^ c) * 16777619U;
  }
  return hash;
}

std::uint64_t fnv1a64(std::string_view text) {
  std::uint64_t hash = 14695981039346656037ULL;
  for (unsigned char c : text) {
    hash = (hash ^ c) * 1099511628211ULL;
  }
  return hash;
}

std::string check_version(const std::string& version) {
  static const std::regex pattern(R"(^[0-9]+(\.[0-9]+){1,3}([.-][A-Za-z0-9]+)?$)");
  if (std::regex_match(version, pattern)) {
    return "";
  }
  return fmt::format("invalid version '{}' (expected e.g. 6.0.0 or 1.22.2.RELEASE)", version);
}

}  // namespace labctl::model
