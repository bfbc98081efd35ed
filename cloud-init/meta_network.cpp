#include <string>

#include <yaml-cpp/emitter.h>

#include "cloud-init/render.hpp"
#include "cloud-init/yaml_emit.hpp"

namespace labctl::cloudinit {

namespace {

// A static address, and the default route and DNS on the NIC that has the gateway.
void addressing(YAML::Emitter& out, const model::Nic& nic) {
  out << YAML::Key << "addresses" << YAML::Value << YAML::BeginSeq;
  emit_quoted(out, nic.ip + "/" + std::to_string(nic.prefix));
  out << YAML::EndSeq;
  if (!nic.gateway.empty()) {
    // 0.0.0.0/0 rather than "default": cloud-init's v2 parser hands "to" to every renderer
    // (ENI on Debian) as an address, and older releases do not special-case "default".
    out << YAML::Key << "routes" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
    out << YAML::Key << "to" << YAML::Value;
    emit_quoted(out, "0.0.0.0/0");
    out << YAML::Key << "via" << YAML::Value;
    emit_quoted(out, nic.gateway);
    out << YAML::EndMap << YAML::EndSeq;
  }
  if (!nic.dns.empty()) {
    out << YAML::Key << "nameservers" << YAML::Value << YAML::BeginMap << YAML::Key << "addresses"
        << YAML::Value << YAML::BeginSeq;
    for (const auto& server : nic.dns) {
      emit_quoted(out, server);
    }
    out << YAML::EndSeq << YAML::EndMap;
  }
}

void ethernet(YAML::Emitter& out, const model::Nic& nic, std::size_t index) {
  const std::string name = "eth" + std::to_string(index);
  out << YAML::Key << name << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "match" << YAML::Value << YAML::BeginMap << YAML::Key << "macaddress"
      << YAML::Value;
  emit_quoted(out, nic.mac);
  out << YAML::EndMap << YAML::Key << "set-name" << YAML::Value << name;
  out << YAML::Key << "dhcp4" << YAML::Value << nic.dhcp;
  // No address: the LAN's DHCP (bridge), or an unaddressed link (ovs without a subnet).
  if (!nic.ip.empty()) {
    addressing(out, nic);
  }
  out << YAML::EndMap;
}

}  // namespace

std::string instance_id(const model::Vm& vm, int generation) {
  std::string id = vm.name;
  if (!vm.spec_hash.empty()) {
    id += "-" + vm.spec_hash;
  }
  if (generation > 0) {
    id += "-" + std::to_string(generation);
  }
  return id;
}

std::string ready_line(const model::Vm& vm, int generation) {
  return std::string(k_ready_marker) + " " + instance_id(vm, generation);
}

std::string meta_data(const model::Lab& /*lab*/, const model::Vm& vm, int generation) {
  YAML::Emitter out;
  out << YAML::BeginMap << YAML::Key << "instance-id" << YAML::Value;
  emit_quoted(out, instance_id(vm, generation));
  out << YAML::Key << "local-hostname" << YAML::Value;
  emit_quoted(out, vm.hostname);
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

// Static addresses matched on the deterministic MACs: the VM's address is known before it
// boots and waiting never depends on DHCP leases. The one exception is a bridge NIC without a
// subnet: the LAN's DHCP addresses it, and `up` learns the address from the guest.
std::string network_config(const model::Vm& vm) {
  YAML::Emitter out;
  out << YAML::BeginMap << YAML::Key << "version" << YAML::Value << 2;
  out << YAML::Key << "ethernets" << YAML::Value << YAML::BeginMap;
  for (std::size_t i = 0; i < vm.nics.size(); ++i) {
    ethernet(out, vm.nics[i], i);
  }
  out << YAML::EndMap << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace labctl::cloudinit
