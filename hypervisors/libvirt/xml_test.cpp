#include "hypervisors/libvirt/xml.hpp"

#include <catch2/catch.hpp>

#include "hypervisors/libvirt/xml_read.hpp"
#include "provision/sys/process.hpp"
#include "tests/support/golden.hpp"
#include "tests/support/labs.hpp"

namespace {

using namespace labctl;
using namespace labctl::hv::libvirt;
using labctl::testing::libvirt_lab;
using labctl::testing::LibvirtLabOptions;

const model::Network& network(const model::Lab& lab, const std::string& key) {
  for (const model::Network& net : lab.teams.front().networks) {
    if (net.key == key) {
      return net;
    }
  }
  FAIL("no network " << key);
  throw;
}

DomainPaths paths_of(const model::Lab& lab, const model::Vm& vm) {
  const std::string dir = pool_path(k_default_pool_root, lab.classroom) + "/";
  return {dir + vm.disk_volume, dir + vm.seed_volume, dir + lab.base_kernel, dir + lab.base_initrd};
}

std::string domain_xml(model::BootMode boot, const std::string& accel) {
  const model::Lab lab = libvirt_lab({.external = true, .boot = boot});
  const model::Vm& vm = lab.teams.front().vms.front();
  hv::DomainRequest request{&lab, &vm, accel, "/var/log/labctl/cd26/" + vm.name + ".log"};
  return render_domain(request, paths_of(lab, vm));
}

// Every rendered document, with the virt-xml-validate schema it must pass.
std::vector<std::tuple<std::string, std::string, std::string>> all_documents() {
  const model::Lab lab = libvirt_lab({.external = true});
  std::vector<std::tuple<std::string, std::string, std::string>> docs;
  for (const char* key : {"lan", "back", "ext", "sw"}) {
    docs.emplace_back(std::string("network-") + key, "network",
                      render_network(lab, network(lab, key)));
  }
  docs.emplace_back("pool", "storagepool", render_pool(lab, k_default_pool_root));
  docs.emplace_back("volume", "storagevol",
                    render_volume("cd26-base.qcow2", hv::VolumeFormat::qcow2, 1048576));
  docs.emplace_back(
      "overlay", "storagevol",
      render_overlay("cd26-team1-vm1.qcow2", 8 * model::k_gib,
                     "/var/lib/libvirt/labctl/cd26/cd26-base.qcow2", hv::VolumeFormat::qcow2));
  docs.emplace_back("domain-kernel", "domain", domain_xml(model::BootMode::kernel, "kvm"));
  docs.emplace_back("domain-disk", "domain", domain_xml(model::BootMode::disk, "qemu"));
  docs.emplace_back("domain-efi", "domain", domain_xml(model::BootMode::efi, "qemu"));
  return docs;
}

}  // namespace

TEST_CASE("libvirt XML renderers match their golden files", "[golden]") {
  const model::Lab lab = libvirt_lab({.external = true});
  SECTION("networks of every kind") {
    for (const char* key : {"lan", "back", "ext", "sw"}) {
      const model::Network& net = network(lab, key);
      labctl::testing::check_golden("libvirt/network-" + model::to_string(net.kind) + ".xml",
                                    render_network(lab, net));
    }
  }
  SECTION("pool and volumes") {
    for (const auto& [name, schema, xml] : all_documents()) {
      if (schema != "network" && name.rfind("domain", 0) != 0) {
        labctl::testing::check_golden("libvirt/" + name + ".xml", xml);
      }
    }
  }
  SECTION("domains, kernel boot, disk boot and EFI boot") {
    labctl::testing::check_golden("libvirt/domain-kernel.xml",
                                  domain_xml(model::BootMode::kernel, "kvm"));
    labctl::testing::check_golden("libvirt/domain-disk.xml",
                                  domain_xml(model::BootMode::disk, "qemu"));
    labctl::testing::check_golden("libvirt/domain-efi.xml",
                                  domain_xml(model::BootMode::efi, "qemu"));
  }
}

TEST_CASE("libvirt XML renderers: details that matter", "[unit]") {
  const model::Lab lab = libvirt_lab({.external = true});
  SECTION("a kernel boot's command line gets no_timer_check once, the lab's own words kept") {
    model::Lab kernel = libvirt_lab({.external = true, .boot = model::BootMode::kernel});
    const model::Vm& vm = kernel.teams.front().vms.front();
    const auto cmdline_of = [&](const std::string& cmdline) {
      kernel.image.cmdline = cmdline;
      hv::DomainRequest request{&kernel, &vm, "qemu", ""};
      const std::string xml = render_domain(request, paths_of(kernel, vm));
      REQUIRE(start_tags(xml, "cmdline").size() == 1);
      const auto from = xml.find("<cmdline>") + 9;
      return xml.substr(from, xml.find("</cmdline>") - from);
    };
    CHECK(cmdline_of("root=/dev/vda rw console=ttyS0") ==
          "root=/dev/vda rw console=ttyS0 no_timer_check");
    CHECK(cmdline_of("root=/dev/vda no_timer_check quiet") == "root=/dev/vda no_timer_check quiet");
    CHECK(cmdline_of("root=/dev/vda no_timer_checks") ==
          "root=/dev/vda no_timer_checks no_timer_check");
  }
  SECTION("every value is escaped") {
    CHECK(xml_escape(R"(a<b>&"c'd)") == "a&lt;b&gt;&amp;&quot;c&apos;d");
    model::Lab odd = lab;
    odd.classroom = "x\"><evil/>";
    const std::string xml = render_network(odd, network(odd, "lan"));
    CHECK(xml.find("<evil/>") == std::string::npos);
    REQUIRE(parse_tag(xml).has_value());
    CHECK(parse_tag(xml)->classroom == odd.classroom);
  }
  SECTION("the NAT network reserves every NIC of the network, and only those") {
    const std::string xml = render_network(lab, network(lab, "lan"));
    const auto hosts = start_tags(xml, "host");
    REQUIRE(hosts.size() == 2);
    CHECK(tag_attribute(hosts[0], "mac") == "02:d7:52:01:01:00");
    CHECK(tag_attribute(hosts[1], "ip") == "10.61.1.12");
    CHECK(tag_attribute(hosts[1], "name") == "team1-vm2");
  }
  SECTION("the isolated network gives the host no address and no forwarding") {
    const std::string xml = render_network(lab, network(lab, "back"));
    CHECK(start_tags(xml, "ip").empty());
    CHECK(start_tags(xml, "forward").empty());
  }
  SECTION("the network's tag carries the model's spec hash, which the planner compares") {
    CHECK(parse_tag(render_network(lab, network(lab, "lan")))->spec_hash ==
          model::network_spec_hash(network(lab, "lan")));
  }
  SECTION("domain memory is the VM's cap in KiB, and no host-passthrough CPU") {
    const std::string xml = domain_xml(model::BootMode::kernel, "qemu");
    CHECK(text(xml, "memory") == "2097152");
    CHECK(text(xml, "currentMemory") == "2097152");
    CHECK(attribute(xml, "domain", "type") == "qemu");
    CHECK(start_tags(xml, "cpu").empty());
  }
  SECTION("EFI boot: UEFI firmware chosen by libvirt, Secure Boot off, no kernel, the disk") {
    const std::string xml = domain_xml(model::BootMode::efi, "qemu");
    CHECK(attribute(xml, "os", "firmware") == "efi");
    REQUIRE(start_tags(xml, "feature").size() == 1);
    CHECK(tag_attribute(start_tags(xml, "feature")[0], "name") == "secure-boot");
    CHECK(tag_attribute(start_tags(xml, "feature")[0], "enabled") == "no");
    CHECK(start_tags(xml, "kernel").empty());
    CHECK(attribute(xml, "type", "machine") == "pc");
    // Per device, the seed cdrom listed too, or OVMF leaves its IDE channel off.
    const auto boots = start_tags(xml, "boot");
    REQUIRE(boots.size() == 2);
    CHECK(tag_attribute(boots[0], "order") == "1");
    CHECK(tag_attribute(boots[1], "order") == "2");
    CHECK(xml.find("<boot order=\"1\"/>") < xml.find("device=\"cdrom\""));
  }
}

TEST_CASE("every rendered libvirt XML passes virt-xml-validate", "[unit]") {
  labctl::testing::ScratchDir dir("lct-libvirt-validate");
  sys::SystemRunner runner;
  for (const auto& [name, schema, xml] : all_documents()) {
    const auto file = dir.path() / (name + ".xml");
    std::ofstream(file) << xml;
    auto result = runner.run({"virt-xml-validate", file.string(), schema});
    REQUIRE(result.ok());
    INFO(name << ": " << result->err << result->out);
    CHECK(result->exit_code == 0);
  }
}
