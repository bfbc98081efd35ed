#include <string>

#include "cloud-init/render.hpp"
#include "cloud-init/yaml_text.hpp"

namespace labctl::cloudinit {

namespace {

std::string ethernet(const model::Nic& nic, std::size_t index) {
  const std::string name = "eth" + std::to_string(index);
  std::string out = "  " + name + ":\n";
  out += "    match:\n      macaddress: " + yaml_scalar(nic.mac) + "\n";
  out += "    set-name: " + name + "\n";
  out += nic.dhcp ? "    dhcp4: true\n" : "    dhcp4: false\n";
  if (nic.ip.empty()) {
    return out;  // the LAN's DHCP (bridge), or an unaddressed link (ovs without a subnet)
  }
  out += "    addresses:\n      - " + yaml_scalar(nic.ip + "/" + std::to_string(nic.prefix)) + "\n";
  if (!nic.gateway.empty()) {
    // 0.0.0.0/0 rather than "default": cloud-init's v2 parser hands "to" to every renderer
    // (ENI on Debian) as an address, and older releases do not special-case "default".
    out += "    routes:\n      - to: " + yaml_scalar("0.0.0.0/0") +
           "\n        via: " + yaml_scalar(nic.gateway) + "\n";
  }
  if (!nic.dns.empty()) {
    out += "    nameservers:\n      addresses:\n";
    for (const auto& server : nic.dns) {
      out += "        - " + yaml_scalar(server) + "\n";
    }
  }
  return out;
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
  return "instance-id: " + yaml_scalar(instance_id(vm, generation)) + "\n" +
         "local-hostname: " + yaml_scalar(vm.hostname) + "\n";
}

// Static addresses matched on the deterministic MACs: the VM's address is known before it
// boots and waiting never depends on DHCP leases. The one exception is a bridge NIC without a
// subnet: the LAN's DHCP addresses it, and `up` learns the address from the guest.
std::string network_config(const model::Vm& vm) {
  std::string out = "version: 2\nethernets:\n";
  for (std::size_t i = 0; i < vm.nics.size(); ++i) {
    out += ethernet(vm.nics[i], i);
  }
  return out;
}

}  // namespace labctl::cloudinit
