#include "provision/model/limits.hpp"

#include <catch2/catch.hpp>

#include "provision/model/loader.hpp"
#include "tests/support/backends.hpp"

namespace {

using namespace labctl::model;
using labctl::testing::strict_backend;
using labctl::testing::two_backends;

std::string error_of(const std::string& text) {
  const auto lab = parse_lab(text, "lab.yaml", two_backends());
  REQUIRE_FALSE(lab.ok());
  return lab.error().message;
}

TEST_CASE("backend limits: what a backend cannot do, in words", "[unit][model]") {
  const BackendLimits strict = strict_backend();
  CHECK(boot_refusal(strict, BootMode::efi).empty());
  CHECK(boot_refusal(strict, BootMode::kernel) ==
        "boot kernel is not supported on Hyper-V: use disk or efi");
  CHECK(network_refusal(strict, NetworkKind::bridge).empty());
  CHECK(network_refusal(strict, NetworkKind::ovs) ==
        "network kind ovs is not supported on Hyper-V: use nat, isolated or bridge");
  CHECK(boot_refusal(BackendLimits{}, BootMode::kernel).empty());
  CHECK(coarsest_memory({}) == nullptr);
  const std::vector<BackendLimits> both = two_backends().all;
  CHECK(coarsest_memory(both)->name == "Hyper-V");
}

TEST_CASE("the loader checks the boot mode and network kinds of the hosts' backends",
          "[unit][model]") {
  const std::string head =
      "classroom: cd26\nhosts: [{uri: qemu:///system}, {uri: \"hyperv://hv1\"}]\n";
  const std::string teams = "teams:\n  count: 2\n  overrides:\n    team1: {host: qemu:///system}\n";
  const std::string net =
      "template:\n  networks:\n    lan: {kind: ovs, bridge: br-lab}\n"
      "  vms: {vm1: }\n";
  const std::string efi = "image: {build: debian-12, boot: efi}\n";
  SECTION("a team that placement may put on a Hyper-V host") {
    CHECK(error_of(head + teams + net + efi) ==
          "lab.yaml:9:5: template.networks.lan: host hyperv://hv1: network kind ovs is not "
          "supported on Hyper-V: use nat, isolated or bridge");
    CHECK(
        error_of(head + teams + "template:\n  networks:\n    lan: {kind: nat}\n  vms: {vm1: }\n") ==
        "lab.yaml:1:1: image.boot: host hyperv://hv1: boot kernel is not supported on Hyper-V: use "
        "disk or efi");
  }
  SECTION("every team pinned to a host that can") {
    const std::string pinned = teams + "    team2: {host: qemu:///system}\n";
    CHECK(parse_lab(head + pinned + net, "lab.yaml", two_backends()).ok());
  }
  SECTION("a lab without hosts is checked where it runs (plan, up), not here") {
    CHECK(parse_lab("classroom: cd26\nteams: {count: 2}\n" + net, "lab.yaml", two_backends()).ok());
  }
}

}  // namespace
