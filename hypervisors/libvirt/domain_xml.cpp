// render_domain (declared in xml.hpp): the VM's domain XML.

#include <fmt/format.h>

#include "hypervisors/libvirt/xml.hpp"

namespace labctl::hv::libvirt {

namespace {

std::string q(std::string_view value) {
  return xml_escape(value);
}

const model::Network* find_network(const model::Lab& lab, const std::string& name) {
  for (const model::Team& team : lab.teams) {
    for (const model::Network& net : team.networks) {
      if (net.name == name) {
        return &net;
      }
    }
  }
  return nullptr;
}

// Machine 'pc': the Debian cloud kernel has no AHCI, so the seed cdrom sits on IDE.
// No <cpu mode='host-passthrough'/>: QEMU aborts with it under the nested KVM we meet.
std::string os_section(const DomainRequest& request, const DomainPaths& paths) {
  std::string out = "  <os>\n    <type arch=\"x86_64\" machine=\"pc\">hvm</type>\n";
  if (request.lab->image.boot == model::BootMode::kernel) {
    out += fmt::format("    <kernel>{}</kernel>\n", q(paths.kernel));
    out += fmt::format("    <initrd>{}</initrd>\n", q(paths.initrd));
    out += fmt::format("    <cmdline>{}</cmdline>\n", q(request.lab->image.cmdline));
  } else {
    out += "    <boot dev=\"hd\"/>\n";
  }
  return out + "  </os>\n";
}

std::string disks(const DomainPaths& paths) {
  return "    <disk type=\"file\" device=\"disk\">\n"
         "      <driver name=\"qemu\" type=\"qcow2\"/>\n" +
         fmt::format("      <source file=\"{}\"/>\n", q(paths.disk)) +
         "      <target dev=\"vda\" bus=\"virtio\"/>\n"
         "    </disk>\n"
         "    <disk type=\"file\" device=\"cdrom\">\n"
         "      <driver name=\"qemu\" type=\"raw\"/>\n" +
         fmt::format("      <source file=\"{}\"/>\n", q(paths.seed)) +
         "      <target dev=\"hdc\" bus=\"ide\"/>\n"
         "      <readonly/>\n"
         "    </disk>\n";
}

// Bridge-kind NICs attach straight to the existing host bridge; the others go through the
// labctl network (which carries the OVS virtualport and VLAN).
std::string interface(const model::Lab& lab, const model::Nic& nic) {
  const model::Network* net = find_network(lab, nic.network);
  std::string source;
  std::string out;
  if (net != nullptr && net->kind == model::NetworkKind::bridge) {
    out = "    <interface type=\"bridge\">\n";
    source = fmt::format("      <source bridge=\"{}\"/>\n", q(net->bridge));
  } else {
    out = "    <interface type=\"network\">\n";
    source = fmt::format("      <source network=\"{}\"/>\n", q(nic.network));
  }
  return out + fmt::format("      <mac address=\"{}\"/>\n", q(nic.mac)) + source +
         "      <model type=\"virtio\"/>\n    </interface>\n";
}

std::string console(const DomainRequest& request) {
  std::string log;
  if (!request.serial_log.empty()) {
    log = fmt::format("      <log file=\"{}\" append=\"off\"/>\n", q(request.serial_log));
  }
  return "    <serial type=\"pty\">\n" + log +
         "      <target port=\"0\"/>\n"
         "    </serial>\n"
         "    <console type=\"pty\">\n"
         "      <target type=\"serial\" port=\"0\"/>\n"
         "    </console>\n";
}

// The guest generates SSH host keys and TLS secrets at first boot: give it entropy.
std::string devices(const DomainRequest& request, const DomainPaths& paths) {
  std::string out = "  <devices>\n" + disks(paths);
  for (const model::Nic& nic : request.vm->nics) {
    out += interface(*request.lab, nic);
  }
  out += console(request);
  out +=
      "    <rng model=\"virtio\">\n"
      "      <backend model=\"random\">/dev/urandom</backend>\n"
      "    </rng>\n";
  return out + "  </devices>\n";
}

}  // namespace

std::string render_domain(const DomainRequest& request, const DomainPaths& paths) {
  const model::Vm& vm = *request.vm;
  const Tag tag{request.lab->classroom, vm.team, "domain", vm.spec_hash};
  const model::Bytes kib = vm.memory / 1024;
  std::string out = fmt::format("<domain type=\"{}\">\n", q(request.accelerator));
  out += fmt::format("  <name>{}</name>\n", q(vm.name));
  out += "  <metadata>\n    " + render_tag(tag) + "\n  </metadata>\n";
  out += fmt::format("  <memory unit=\"KiB\">{}</memory>\n", kib);
  out += fmt::format("  <currentMemory unit=\"KiB\">{}</currentMemory>\n", kib);
  out += fmt::format("  <vcpu placement=\"static\">{}</vcpu>\n", vm.vcpus);
  out += os_section(request, paths);
  out += "  <features>\n    <acpi/>\n    <apic/>\n  </features>\n";
  out += "  <clock offset=\"utc\"/>\n";
  out += "  <on_poweroff>destroy</on_poweroff>\n";
  out += "  <on_reboot>restart</on_reboot>\n";
  out += "  <on_crash>destroy</on_crash>\n";
  return out + devices(request, paths) + "</domain>\n";
}

}  // namespace labctl::hv::libvirt
