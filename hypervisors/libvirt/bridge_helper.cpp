#include "hypervisors/libvirt/bridge_helper.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>

namespace labctl::hv::libvirt {

namespace {

struct Allowed {
  bool all = false;
  std::set<std::string> names;
};

// Reads `allow` lines, following `include` lines a few levels deep (as the helper does).
void read_allowed(const std::filesystem::path& path, int depth, Allowed& allowed) {
  std::ifstream in(path);
  for (std::string line; depth < 8 && std::getline(in, line);) {
    std::istringstream words(line);
    std::string verb;
    std::string value;
    if (!(words >> verb >> value) || verb.starts_with('#')) {
      continue;
    }
    if (verb == "allow") {
      allowed.all = allowed.all || value == "all";
      allowed.names.insert(value);
    } else if (verb == "include") {
      read_allowed(value, depth + 1, allowed);
    }
  }
}

std::string fix_for(const std::vector<std::string>& missing, const std::filesystem::path& conf) {
  std::string lines;
  for (const std::string& bridge : missing) {
    lines += fmt::format("echo 'allow {}' >> {}; ", bridge, conf.string());
  }
  return fmt::format("as root: mkdir -p {}; {}chmod 644 {}", conf.parent_path().string(), lines,
                     conf.string());
}

}  // namespace

bool is_session_uri(const std::string& uri) {
  const auto scheme_end = uri.find("://");
  if (scheme_end == std::string::npos || !uri.starts_with("qemu")) {
    return false;
  }
  const auto path = uri.find('/', scheme_end + 3);
  return path != std::string::npos && uri.compare(path, 8, "/session") == 0;
}

Status check_bridge_helper(const std::vector<std::string>& bridges,
                           const std::filesystem::path& conf) {
  if (bridges.empty()) {
    return {};
  }
  struct stat st {};
  if (::stat(conf.c_str(), &st) != 0) {
    return Error::failure(fmt::format(
        "{} is missing: qemu:///session joins host bridges through qemu-bridge-helper, which "
        "needs it; {}",
        conf.string(), fix_for(bridges, conf)));
  }
  Allowed allowed;
  read_allowed(conf, 0, allowed);
  std::vector<std::string> missing;
  std::copy_if(bridges.begin(), bridges.end(), std::back_inserter(missing),
               [&](const std::string& b) { return !allowed.all && !allowed.names.contains(b); });
  if ((st.st_mode & S_IROTH) == 0 || !missing.empty()) {
    return Error::failure(fmt::format(
        "{} must be readable by all and allow bridge(s) {}: qemu:///session joins host bridges "
        "through qemu-bridge-helper; {}",
        conf.string(), fmt::join(bridges, ", "), fix_for(missing, conf)));
  }
  return {};
}

}  // namespace labctl::hv::libvirt
