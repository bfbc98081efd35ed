#include "provision/model/lab.hpp"

#include <fmt/format.h>

#include "provision/model/names.hpp"
#include "provision/model/size.hpp"

namespace labctl::model {

namespace {
std::string dotted(std::uint32_t a) {
  return fmt::format("{}.{}.{}.{}", (a >> 24) & 0xff, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
}
std::uint32_t mask_of(int prefix) {
  return prefix == 0 ? 0U : ~0U << (32 - prefix);
}
}  // namespace

std::string Subnet::cidr() const {
  return fmt::format("{}/{}", dotted(network), prefix);
}
std::string Subnet::address(std::uint32_t n) const {
  return dotted(network + n);
}
std::string Subnet::netmask() const {
  return dotted(mask_of(prefix));
}
bool Subnet::overlaps(const Subnet& other) const {
  const std::uint32_t mask = mask_of(std::min(prefix, other.prefix));
  return (network & mask) == (other.network & mask);
}

const Team* Lab::find_team(const std::string& team_name) const {
  for (const Team& team : teams) {
    if (team.name == team_name) {
      return &team;
    }
  }
  return nullptr;
}

bool uses_classroom_registry(const Lab& lab) {
  return lab.registry.enabled && lab.docker.registry_mirror.empty();
}

Bytes stack_footprint(const std::vector<Instance>& instances) {
  Bytes total = k_vm_os_reserve;
  for (const Instance& instance : instances) {
    total += instance.memory + (instance.db == DbKind::h2 ? 0 : k_db_memory);
  }
  return total;
}

std::string explain_footprint(const std::vector<Instance>& instances) {
  std::string out = fmt::format("{} guest + {} Docker", format_size(k_guest_reserve),
                                format_size(k_docker_reserve));
  for (const Instance& instance : instances) {
    out += fmt::format(" + {} {}", format_size(instance.memory), instance.name);
    if (instance.db != DbKind::h2) {
      out += fmt::format(" + {} {}'s database", format_size(k_db_memory), instance.name);
    }
  }
  return out + " = " + format_size(stack_footprint(instances));
}

std::string network_spec_hash(const Network& net) {
  const std::string cidr = net.subnet ? net.subnet->cidr() : std::string();
  const std::string text =
      fmt::format("{}|{}|{}|{}|{}|{}|{}|{}", net.name, to_string(net.kind), net.bridge, cidr,
                  net.gateway, net.dhcp_start, net.dhcp_end, net.vlan);
  return fmt::format("{:012x}", fnv1a64(text) & 0xffffffffffffULL);
}

std::string to_string(NetworkKind kind) {
  switch (kind) {
    case NetworkKind::nat:
      return "nat";
    case NetworkKind::isolated:
      return "isolated";
    case NetworkKind::bridge:
      return "bridge";
    case NetworkKind::ovs:
      return "ovs";
  }
  return "?";
}

std::string to_string(Accelerator accel) {
  switch (accel) {
    case Accelerator::automatic:
      return "auto";
    case Accelerator::kvm:
      return "kvm";
    case Accelerator::qemu:
      return "qemu";
  }
  return "?";
}

std::string to_string(DockerSource source) {
  switch (source) {
    case DockerSource::repository:
      return "repository";
    case DockerSource::distribution:
      return "distribution";
    case DockerSource::preinstalled:
      return "preinstalled";
  }
  return "?";
}

std::string to_string(BootMode mode) {
  switch (mode) {
    case BootMode::kernel:
      return "kernel";
    case BootMode::disk:
      return "disk";
    case BootMode::efi:
      return "efi";
  }
  return "?";
}

std::string to_string(DbKind db) {
  switch (db) {
    case DbKind::postgresql:
      return "postgresql";
    case DbKind::mariadb:
      return "mariadb";
    case DbKind::h2:
      return "h2";
  }
  return "?";
}

std::string to_string(EnvScheme scheme) {
  switch (scheme) {
    case EnvScheme::automatic:
      return "auto";
    case EnvScheme::current:
      return "current";
    case EnvScheme::legacy:
      return "legacy";
  }
  return "?";
}

}  // namespace labctl::model
