#include "provision/plan/access_checks.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "provision/model/access.hpp"

namespace labctl::plan {

namespace {

Error refusal(const ErrorSite& site, const std::string& what) {
  Error error = Error::failure(fmt::format("{}:{}:{}: {}: {}", site.file, site.line, site.column,
                                           site.key.empty() ? "access" : site.key, what));
  error.site = site;
  return error;
}

bool same_address(const std::string& socket, const std::string& listen) {
  return socket == listen || socket == "0.0.0.0" || listen == "0.0.0.0";
}

Status check_listen(const model::AccessSettings& access, const sys::HostPorts& host) {
  const auto& have = host.addresses;
  if (access.listen == "0.0.0.0" ||
      std::find(have.begin(), have.end(), access.listen) != have.end()) {
    return {};
  }
  return refusal(access.listen_site,
                 fmt::format("{} is not an address of this host (it has {}): give one of them, "
                             "or 0.0.0.0 for all",
                             access.listen, fmt::join(have, ", ")));
}

Status check_ranges(const model::AccessSettings& access, const sys::HostPorts& host) {
  for (const sys::ClassroomRange& other : host.ranges) {
    if (!other.unreadable.empty()) {
      return refusal(
          access.ports_site,
          fmt::format("ports {}-{} cannot be checked against classroom {} on this "
                      "host: {}: repair that file, or take that classroom down",
                      access.first_port, access.last_port, other.classroom, other.unreadable));
    }
    if (other.first <= access.last_port && access.first_port <= other.last) {
      return refusal(access.ports_site,
                     fmt::format("ports {}-{} overlap {}-{} of classroom {} on this host "
                                 "(recorded in {}): give a range apart from it",
                                 access.first_port, access.last_port, other.first, other.last,
                                 other.classroom, other.recorded_in));
    }
  }
  return {};
}

}  // namespace

Status check_access(const model::Lab& lab, const std::vector<const model::Team*>& teams,
                    const sys::HostPorts& host) {
  const model::AccessSettings& access = lab.access;
  if (!access.enabled) {
    return {};
  }
  if (auto st = check_listen(access, host); !st) {
    return st;
  }
  if (auto st = check_ranges(access, host); !st) {
    return st;
  }
  for (const model::Team* team : teams) {
    for (const model::Endpoint& e : model::forwarded_endpoints(lab, team->name)) {
      for (const sys::ListeningSocket& socket : host.listening) {
        if (socket.port == e.port && same_address(socket.address, e.listen)) {
          return refusal(access.ports_site,
                         fmt::format("port {} ({} {} {}) is in use on this host (a socket "
                                     "listens on {}:{}): stop it or give another range",
                                     e.port, e.team, e.vm, e.name, socket.address, socket.port));
        }
      }
    }
  }
  return {};
}

}  // namespace labctl::plan
