// `access:`, how students reach their team from outside the host, and its checks against the
// expanded lab (the range must hold every team; published instances need a slot).

#include <charconv>
#include <regex>

#include <fmt/format.h>

#include "provision/model/access.hpp"
#include "provision/model/addressing.hpp"
#include "provision/model/spec.hpp"

namespace labctl::model {

namespace {

constexpr int k_lowest_port = 1024;
constexpr int k_highest_port = 65535;

ErrorSite site_of(Reader& reader, const Loc& loc) {
  return {reader.diag().file(), loc.line, loc.column, loc.path};
}

bool parse_port(std::string_view text, int& port) {
  const auto [rest, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  return !text.empty() && ec == std::errc() && rest == text.data() + text.size();
}

void read_ports(Reader& reader, const Field& field, AccessSettings& access) {
  const auto text = reader.scalar(field);
  if (!text) {
    return;
  }
  const auto dash = text->find('-');
  int first = 0;
  int last = 0;
  const std::string_view view(*text);
  const bool parsed = dash != std::string::npos && parse_port(view.substr(0, dash), first) &&
                      parse_port(view.substr(dash + 1), last);
  if (!parsed || first < k_lowest_port || last > k_highest_port || first > last) {
    reader.error(field.loc, fmt::format("invalid port range '{}' (expected FIRST-LAST between {} "
                                        "and {}, e.g. 20000-29999)",
                                        *text, k_lowest_port, k_highest_port));
    return;
  }
  access.first_port = first;
  access.last_port = last;
}

void read_addresses(Reader& reader, const Field& field, AccessSettings& access) {
  const Field host = field.child("host");
  access.host = reader.required_text(field, "host");
  // A DNS name or an IPv4 address: it goes into URLs, SSH commands and hand-outs.
  static const std::regex name(
      "^[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*$");
  if (host.present() && (access.host.size() > 253 || !std::regex_match(access.host, name))) {
    reader.error(host.loc, fmt::format("invalid host '{}' (expected the DNS name or IPv4 "
                                       "address students use, e.g. lab-server.school.lan)",
                                       access.host));
  }
  const Field listen = field.child("listen");
  access.listen = reader.text(listen, access.listen);
  const auto parsed = parse_cidr(access.listen + "/32");
  if (!parsed || parsed->address(0) != access.listen) {
    reader.error(listen.loc, fmt::format("invalid listen address '{}' (expected one IPv4 address "
                                         "of this host, or 0.0.0.0 for all of them)",
                                         access.listen));
  }
  access.listen_site = site_of(reader, listen.loc);
}

}  // namespace

void read_access(Reader& reader, const Field& root, LabSpec& spec) {
  AccessSettings& access = spec.lab.access;
  const Field field = root.child("access");
  if (!field.present() || !reader.check_map(field, {"host", "listen", "ports", "ssh"})) {
    return;
  }
  access.enabled = true;
  read_addresses(reader, field, access);
  const Field ports = field.child("ports");
  read_ports(reader, ports, access);
  access.ports_site = site_of(reader, ports.loc);
  access.ssh = reader.choice(field.child("ssh"), {"false", "true"}, 0) == 1;
}

void check_access(Reader& reader, const LabSpec& spec) {
  const Lab& lab = spec.lab;
  const AccessSettings& access = lab.access;
  if (!access.enabled) {
    return;
  }
  const Loc ports{access.ports_site.line, access.ports_site.column, access.ports_site.key};
  if (const int needed = last_endpoint_port(lab); needed > access.last_port) {
    const int block = (needed - access.first_port + 1) / static_cast<int>(lab.teams.size() + 1);
    reader.error(ports, fmt::format("ports {}-{} hold {} ports; {} teams of {} ports each "
                                    "(team N from {} + N * {}) need {}-{}: give a wider range",
                                    access.first_port, access.last_port,
                                    access.last_port - access.first_port + 1, lab.teams.size(),
                                    block, access.first_port, block, access.first_port, needed));
    return;
  }
  for (const Team& team : lab.teams) {
    for (const Vm& vm : team.vms) {
      for (const Instance& instance : vm.instances) {
        if (instance_slot(instance.port) == 0) {
          reader.error(
              ports, fmt::format("{} {} instance '{}' is on port {}: published "
                                 "instances use ports {}-{} of their VM",
                                 team.name, vm.key, instance.name, instance.port,
                                 k_first_published_instance_port, k_last_published_instance_port));
          return;
        }
      }
    }
  }
}

}  // namespace labctl::model
