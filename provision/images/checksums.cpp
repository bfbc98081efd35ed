#include "provision/images/checksums.hpp"

#include <algorithm>
#include <cctype>
#include <sstream>

namespace labctl::images {
namespace {

std::string trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string::npos) {
    return "";
  }
  return text.substr(first, text.find_last_not_of(" \t\r") - first + 1);
}

// "SHA256 (name) = HEX" -> {name, HEX}
std::optional<std::pair<std::string, std::string>> bsd_line(const std::string& line) {
  const auto open = line.find(" (");
  const auto close = line.rfind(") = ");
  if (open == std::string::npos || close == std::string::npos || close < open) {
    return std::nullopt;
  }
  return std::make_pair(line.substr(open + 2, close - open - 2), trim(line.substr(close + 4)));
}

// "HEX  name" or "HEX *name" -> {name, HEX}
std::optional<std::pair<std::string, std::string>> gnu_line(const std::string& line) {
  const auto space = line.find_first_of(" \t");
  if (space == std::string::npos) {
    return std::nullopt;
  }
  std::string name = trim(line.substr(space));
  if (!name.empty() && name.front() == '*') {
    name.erase(0, 1);
  }
  return std::make_pair(name, line.substr(0, space));
}

std::string base_name(const std::string& path) {
  return path.substr(path.find_last_of('/') + 1);
}

}  // namespace

std::optional<ExpectedDigest> parse_digest(const std::string& text) {
  std::string hex = trim(text);
  std::transform(hex.begin(), hex.end(), hex.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const bool all_hex =
      std::all_of(hex.begin(), hex.end(), [](unsigned char c) { return std::isxdigit(c) != 0; });
  if (!all_hex || (hex.size() != 64 && hex.size() != 128)) {
    return std::nullopt;
  }
  return ExpectedDigest{hex.size() == 64 ? DigestKind::sha256 : DigestKind::sha512, hex};
}

std::optional<ExpectedDigest> find_digest(const std::string& sums, const std::string& file_name) {
  std::istringstream lines(sums);
  std::string line;
  while (std::getline(lines, line)) {
    line = trim(line);
    if (line.empty() || line.front() == '#') {
      continue;
    }
    auto entry = line.rfind(") = ") != std::string::npos ? bsd_line(line) : gnu_line(line);
    // Lists may name files with a directory ("./x.qcow2", "bookworm/x.qcow2").
    if (entry && base_name(entry->first) == file_name) {
      return parse_digest(entry->second);
    }
  }
  return std::nullopt;
}

std::string url_file_name(const std::string& url) {
  std::string path = url.substr(0, url.find_first_of("?#"));
  return base_name(path);
}

}  // namespace labctl::images
