#include "hypervisors/limits.hpp"

#include <catch2/catch.hpp>

#include "provision/model/loader.hpp"

namespace {

using namespace labctl;
using model::BootMode;
using model::NetworkKind;

TEST_CASE("each backend's limits, by URI, without connecting", "[unit]") {
  const model::BackendLimits hyperv = hv::limits_of("hyperv://hv1");
  CHECK(hyperv.name == "Hyper-V");
  CHECK(hyperv.memory_unit == 2 * model::k_mib);
  CHECK(hyperv.boot_modes == std::vector<BootMode>{BootMode::disk, BootMode::efi});
  CHECK(hyperv.network_kinds ==
        std::vector<NetworkKind>{NetworkKind::nat, NetworkKind::isolated, NetworkKind::bridge});
  CHECK(hyperv.shared_nat == "NetNat");
  CHECK(model::max_nat_networks(hyperv) == 1);
  for (const char* uri : {"qemu:///system", "qemu+ssh://h/system", "test:///default"}) {
    const model::BackendLimits libvirt = hv::limits_of(uri);
    CHECK(libvirt.name == "libvirt");
    CHECK(libvirt.memory_unit == 1);
    CHECK(libvirt.boot_modes.size() == 3);
    CHECK(libvirt.network_kinds.size() == 4);
    CHECK(libvirt.shared_nat.empty());
    CHECK(model::max_nat_networks(libvirt) == 0);
  }
  CHECK(hv::backends().all.size() == 2);
}

TEST_CASE("the loader with every backend's limits refuses what a host cannot do", "[unit]") {
  const auto error_of = [](const std::string& text) {
    const auto lab = model::parse_lab(text, "lab.yaml", hv::backends());
    REQUIRE_FALSE(lab.ok());
    return lab.error().message;
  };
  const std::string lab =
      "classroom: cd26\nteams: {count: 2}\ntemplate:\n  networks:\n    lan: {kind: nat}\n"
      "  vms: {vm1: }\n";
  CHECK(error_of("defaults: {memory: 1025MiB}\n" + lab) ==
        "lab.yaml:1:20: defaults.memory: memory 1025MiB is not a multiple of 2MiB, the unit "
        "Hyper-V assigns memory in");
  CHECK(error_of("hosts: [{uri: \"hyperv://hv1\"}]\n" + lab) ==
        "lab.yaml:1:1: image.boot: host hyperv://hv1: boot kernel is not supported on Hyper-V: "
        "use disk or efi");
  CHECK(model::parse_lab("hosts: [{uri: \"hyperv://hv1\"}]\nimage: {build: debian-12, boot: "
                         "efi}\n" +
                             lab,
                         "lab.yaml", hv::backends())
            .ok());
  CHECK(
      model::parse_lab("hosts: [{uri: qemu:///system}]\n" + lab, "lab.yaml", hv::backends()).ok());
}

}  // namespace
