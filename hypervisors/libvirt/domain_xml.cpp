// render_domain (declared in xml.hpp): the VM's domain XML.

#include <sstream>

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

// The lab's kernel command line, with no_timer_check unless it says so already. Linux checks
// at boot that the IO-APIC timer ticks within a few milliseconds of TSC time; a vCPU that a
// busy host deschedules through that window sees one tick instead of several, and the kernel
// panics ("IO-APIC + timer doesn't work!"): one VM of 28 in bench/vs_plain.sh runs under TCG.
// Images made for VMs set it for that reason. Added here, not in the lab's default, so that
// the VMs' spec (and so their hash) stays what it was.
std::string kernel_cmdline(const std::string& cmdline) {
  std::istringstream words(cmdline);
  for (std::string word; words >> word;) {
    if (word == "no_timer_check") {
      return cmdline;
    }
  }
  return cmdline.empty() ? "no_timer_check" : cmdline + " no_timer_check";
}

// Machine 'pc': the Debian cloud kernel has no AHCI, so the seed cdrom sits on IDE. OVMF
// runs on i440fx too. efi: libvirt picks the firmware (and makes the domain's NVRAM file)
// from the descriptors the ovmf package installs; Secure Boot off, labctl's images are not
// signed; the boot order is per device (see disks()). No <cpu mode='host-passthrough'/>:
// QEMU aborts with it under the nested KVM we meet.
std::string os_section(const DomainRequest& request, const DomainPaths& paths) {
  const model::BootMode boot = request.lab->image.boot;
  std::string out = boot == model::BootMode::efi ? "  <os firmware=\"efi\">\n" : "  <os>\n";
  out += "    <type arch=\"x86_64\" machine=\"pc\">hvm</type>\n";
  if (boot == model::BootMode::kernel) {
    out += fmt::format("    <kernel>{}</kernel>\n", q(paths.kernel));
    out += fmt::format("    <initrd>{}</initrd>\n", q(paths.initrd));
    out +=
        fmt::format("    <cmdline>{}</cmdline>\n", q(kernel_cmdline(request.lab->image.cmdline)));
    return out + "  </os>\n";
  }
  if (boot == model::BootMode::efi) {
    return out +
           "    <firmware>\n"
           "      <feature enabled=\"no\" name=\"secure-boot\"/>\n"
           "    </firmware>\n"
           "  </os>\n";
  }
  return out + "    <boot dev=\"hd\"/>\n  </os>\n";
}

// OVMF sets up only the controllers of the devices in its boot order: with the disk alone
// there, the IDE channel stays off and Linux never finds the seed cdrom (no NoCloud data).
// So under efi both are listed, the disk first.
std::string boot_order(const DomainRequest& request, int order) {
  if (request.lab->image.boot != model::BootMode::efi) {
    return "";
  }
  return fmt::format("      <boot order=\"{}\"/>\n", order);
}

std::string disks(const DomainRequest& request, const DomainPaths& paths) {
  return "    <disk type=\"file\" device=\"disk\">\n"
         "      <driver name=\"qemu\" type=\"qcow2\"/>\n" +
         fmt::format("      <source file=\"{}\"/>\n", q(paths.disk)) +
         "      <target dev=\"vda\" bus=\"virtio\"/>\n" + boot_order(request, 1) +
         "    </disk>\n"
         "    <disk type=\"file\" device=\"cdrom\">\n"
         "      <driver name=\"qemu\" type=\"raw\"/>\n" +
         fmt::format("      <source file=\"{}\"/>\n", q(paths.seed)) +
         "      <target dev=\"hdc\" bus=\"ide\"/>\n"
         "      <readonly/>\n" +
         boot_order(request, 2) + "    </disk>\n";
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
  std::string out = "  <devices>\n" + disks(request, paths);
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

// The timers virt-install gives a Linux guest. With the HPET present, the guest's clock source
// is the HPET, each read an emulated MMIO access; without it, acpi_pm. Under TCG, four VMs of
// 2 vCPUs on 2 cores reached cloud-init's first stage at a median 94 s of uptime with it and
// 82 s without (bench/vs_plain.sh).
std::string clock_section() {
  return "  <clock offset=\"utc\">\n"
         "    <timer name=\"rtc\" tickpolicy=\"catchup\"/>\n"
         "    <timer name=\"pit\" tickpolicy=\"delay\"/>\n"
         "    <timer name=\"hpet\" present=\"no\"/>\n"
         "  </clock>\n";
}

}  // namespace

std::string render_domain(const DomainRequest& request, const DomainPaths& paths) {
  const model::Vm& vm = *request.vm;
  const Tag tag{request.lab->classroom, vm.team, "domain", vm.spec_hash, request.lab->identity};
  const model::Bytes kib = vm.memory / 1024;
  std::string out = fmt::format("<domain type=\"{}\">\n", q(request.accelerator));
  out += fmt::format("  <name>{}</name>\n", q(vm.name));
  out += "  <metadata>\n    " + render_tag(tag) + "\n  </metadata>\n";
  out += fmt::format("  <memory unit=\"KiB\">{}</memory>\n", kib);
  out += fmt::format("  <currentMemory unit=\"KiB\">{}</currentMemory>\n", kib);
  out += fmt::format("  <vcpu placement=\"static\">{}</vcpu>\n", vm.vcpus);
  out += os_section(request, paths);
  out += "  <features>\n    <acpi/>\n    <apic/>\n  </features>\n";
  out += clock_section();
  out += "  <on_poweroff>destroy</on_poweroff>\n";
  out += "  <on_reboot>restart</on_reboot>\n";
  out += "  <on_crash>destroy</on_crash>\n";
  return out + devices(request, paths) + "</domain>\n";
}

}  // namespace labctl::hv::libvirt
