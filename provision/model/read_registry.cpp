// `registry:`, the host's classroom registry, and its check against the lab's subnets.

#include <fmt/format.h>

#include "provision/model/addressing.hpp"
#include "provision/model/names.hpp"
#include "provision/model/spec.hpp"

namespace labctl::model {

void read_registry(Reader& reader, const Field& root, LabSpec& spec) {
  RegistrySettings& registry = spec.lab.registry;
  const Field field = root.child("registry");
  spec.registry_loc = field.loc;
  if (!field.present() || !reader.check_map(field, {"enabled", "address", "port", "upstream"})) {
    return;
  }
  registry.enabled = reader.choice(field.child("enabled"), {"false", "true"}, 1) == 1;
  const Field address = field.child("address");
  registry.address = reader.text(address, registry.address);
  spec.registry_loc = address.present() ? address.loc : field.loc;
  const auto parsed = parse_cidr(registry.address + "/32");
  if (!parsed || parsed->address(0) != registry.address || registry.address == "0.0.0.0") {
    reader.error(address.loc, fmt::format("invalid registry address '{}' (expected one IPv4 "
                                          "address, e.g. 10.255.255.1; never 0.0.0.0)",
                                          registry.address));
  }
  registry.port =
      static_cast<int>(reader.integer(field.child("port"), 1, 65535).value_or(registry.port));
  const Field upstream = field.child("upstream");
  registry.upstream = reader.text(upstream, registry.upstream);
  if (upstream.present() && !is_safe_url(registry.upstream, {"http", "https"})) {
    reader.error(upstream.loc, fmt::format("invalid URL '{}' (expected http://... or https://...)",
                                           registry.upstream));
  }
}

// The registry's address must stay off the classroom's networks: the VMs reach it through
// their NAT gateway, and an address inside a subnet would be taken for a neighbour's.
void check_registry(Reader& reader, const LabSpec& spec) {
  const Lab& lab = spec.lab;
  const auto address = parse_cidr(lab.registry.address + "/32");
  if (!uses_classroom_registry(lab) || !address) {
    return;
  }
  for (const Team& team : lab.teams) {
    for (const Network& net : team.networks) {
      if (net.subnet && net.subnet->overlaps(*address)) {
        reader.error(spec.registry_loc,
                     fmt::format("registry address {} is inside subnet {} of {}: give "
                                 "registry.address outside every subnet of the lab (default "
                                 "10.255.255.1)",
                                 lab.registry.address, net.subnet->cidr(), net.name));
        return;
      }
    }
  }
}

}  // namespace labctl::model
