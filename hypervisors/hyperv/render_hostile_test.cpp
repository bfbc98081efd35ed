#include <catch2/catch.hpp>

#include "hypervisors/hyperv/powershell.hpp"
#include "hypervisors/hyperv/render.hpp"
#include "tests/support/labs.hpp"

namespace hy = labctl::hv::hyperv;
namespace model = labctl::model;
using labctl::testing::hyperv_lab;

namespace {

const std::string k_root(hy::k_default_root);

void check_refused(const labctl::Result<std::string>& script, const std::string& why) {
  REQUIRE_FALSE(script.ok());
  CHECK_THAT(script.error().message, Catch::Contains(why));
}

// Length of the single quote at text[i] as PowerShell's tokenizer sees quotes: ' and the
// typographic U+2018..U+201B (3 bytes in UTF-8); 0 when there is none.
std::size_t quote_at(const std::string& text, std::size_t i) {
  if (i < text.size() && text[i] == '\'') {
    return 1;
  }
  const bool typographic = i + 2 < text.size() && text.compare(i, 2, "\xE2\x80") == 0 &&
                           static_cast<unsigned char>(text[i + 2]) >= 0x98 &&
                           static_cast<unsigned char>(text[i + 2]) <= 0x9B;
  return typographic ? 3 : 0;
}

// Reads the single-quoted literal starting at text[at] the way PowerShell does: two quotes
// in a row are one quote, a lone quote ends the string.
std::string read_literal(const std::string& text, std::size_t at, std::size_t& end) {
  std::string value;
  std::size_t i = at + quote_at(text, at);
  while (i < text.size()) {
    const std::size_t q = quote_at(text, i);
    if (q == 0) {
      value += text[i++];
      continue;
    }
    const std::size_t q2 = quote_at(text, i + q);
    if (q2 == 0) {
      i += q;
      break;
    }
    value += text.substr(i, q);
    i += q + q2;
  }
  end = i;
  return value;
}

// The hostile value sits in the script only as literals that read back as exactly itself.
void check_inert(const std::string& script, const std::string& value) {
  const std::string quoted = *hy::ps_quote(value);
  std::string rest = script;
  int literals = 0;
  for (std::size_t at = rest.find(quoted); at != std::string::npos; at = rest.find(quoted)) {
    std::size_t end = 0;
    CHECK(read_literal(rest, at, end) == value);
    CHECK(end == at + quoted.size());
    rest.erase(at, quoted.size());
    ++literals;
  }
  CHECK(literals > 0);
  CHECK(rest.find("Remove-Item C:\\Windows") == std::string::npos);
}

}  // namespace

TEST_CASE("hostile values are refused or rendered inert", "[unit]") {
  model::Lab lab = hyperv_lab();
  model::Network net = lab.teams[0].networks[0];
  model::Vm vm = lab.teams[0].vms[0];
  const std::vector<std::string> hostile_names = {"x'; Remove-Item C:\\Windows -Recurse; '",
                                                  "x$(Remove-Item C:\\Windows)",
                                                  "x`nRemove-Item",
                                                  "x;Remove-Item",
                                                  "x\nRemove-Item C:\\Windows",
                                                  "x\"",
                                                  "X"};

  SECTION("a hostile name never reaches a script: every renderer refuses it") {
    for (const std::string& bad : hostile_names) {
      INFO(bad);
      net.name = bad;
      check_refused(hy::render_create_network(lab, net), "is not of the form");
      check_refused(hy::render_delete_network("cd26", bad), "is not of the form");
      check_refused(hy::render_delete_network(bad, "cd26-team1-lan"), "is not of the form");
      vm.name = bad;
      check_refused(hy::render_create_vm(lab, vm, k_root), "is not of the form");
      check_refused(hy::render_delete_vm(k_root, "cd26", bad), "is not of the form");
      check_refused(hy::render_start_vm(bad), "is not of the form");
      check_refused(hy::render_console_capture(bad, "C:\\x.log"), "is not of the form");
      check_refused(hy::render_stop_vm(bad), "is not of the form");
      check_refused(hy::render_vm_state(bad), "is not of the form");
      check_refused(hy::render_inventory(k_root, bad), "is not of the form");
      check_refused(hy::render_create_pool(k_root, bad), "is not of the form");
      check_refused(hy::render_delete_volume(k_root, "cd26", bad), "is not of the form");
    }
  }
  SECTION("a hostile local path is one inert literal; with a newline it is refused") {
    for (const std::string& path :
         {std::string("C:\\img\\x'; Remove-Item C:\\Windows -Recurse; '.vhdx"),
          std::string("/tmp/$(Remove-Item C:\\Windows).vhdx"),
          std::string("/tmp/`$x; Remove-Item C:\\Windows\".vhdx"),
          std::string("/tmp/\u2019; Remove-Item C:\\Windows; \u2018.vhdx")}) {
      auto script = hy::render_upload_volume(k_root, "cd26", "cd26-base.qcow2", path);
      REQUIRE(script.ok());
      check_inert(*script, path);
    }
    check_refused(hy::render_upload_volume(k_root, "cd26", "cd26-base.qcow2",
                                           "/tmp/x\nRemove-Item C:\\Windows"),
                  "control character");
    check_refused(
        hy::render_upload_volume(k_root, "cd26", "cd26-base.qcow2", std::string("/tmp/x\0y", 8)),
        "control character");
  }
  SECTION("a hostile console log path is one inert literal; with a newline it is refused") {
    const std::string log = "C:\\logs\\x'; Remove-Item C:\\Windows -Recurse; '.log";
    auto script = hy::render_console_capture("cd26-team1-vm1", log);
    REQUIRE(script.ok());
    check_inert(*script, log);
    check_refused(hy::render_start_vm("cd26-team1-vm1", k_root, "C:\\x\nRemove-Item C:\\Windows"),
                  "control character");
  }
  SECTION("a route's addresses are plain IPv4 or refused") {
    const std::vector<std::string> bad = {"10.255.255.1'; Remove-Item C:\\Windows; '",
                                          "10.255.255.1/32",
                                          "10.255.255",
                                          "010.255.255.1",
                                          "10.255.255.256",
                                          "",
                                          "10.255.255.1 "};
    for (const std::string& address : bad) {
      INFO(address);
      check_refused(
          hy::render_create_network(lab, net, k_root, hy::RegistryRoute{address, "172.29.18.5"}),
          "is not an IPv4 address");
      check_refused(hy::render_start_vm("cd26-team1-vm1", k_root, "",
                                        hy::RegistryRoute{"10.255.255.1", address}),
                    "is not an IPv4 address");
    }
  }
  SECTION("a hostile storage root is inert too") {
    const std::string root = "D:\\labs'; Remove-Item C:\\Windows -Recurse; '";
    auto script = hy::render_delete_pool(root, "cd26");
    REQUIRE(script.ok());
    check_inert(*script, root + "\\cd26");
  }
  SECTION("a hostile existing-switch name for a bridge network") {
    net.kind = model::NetworkKind::bridge;
    net.bridge = "Ext'; Remove-Item C:\\Windows -Recurse; '";
    auto script = hy::render_create_network(lab, net);
    REQUIRE(script.ok());
    check_inert(*script, net.bridge);
    net.bridge = "Ext*";
    check_refused(hy::render_create_network(lab, net), "none of * ? [ ]");
  }
  SECTION("a bad MAC, a bad spec hash or a NIC key with a quote") {
    vm.nics[0].mac = "02:c4:1e:01:01:00'";
    check_refused(hy::render_create_vm(lab, vm, k_root), "MAC address");
    vm = lab.teams[0].vms[0];
    vm.spec_hash = "ab cd";
    check_refused(hy::render_create_vm(lab, vm, k_root), "tag value");
    vm = lab.teams[0].vms[0];
    vm.nics[1].key = "lab'x";
    check_refused(hy::render_create_vm(lab, vm, k_root), "is not of the form");
  }
}

TEST_CASE("what Hyper-V cannot do is an Error that says so", "[unit]") {
  model::Lab lab = hyperv_lab();
  model::Network net = lab.teams[0].networks[0];
  model::Vm vm = lab.teams[0].vms[0];
  SECTION("Open vSwitch networks") {
    net.kind = model::NetworkKind::ovs;
    check_refused(hy::render_create_network(lab, net), "Open vSwitch networks are not supported");
  }
  SECTION("memory not in whole 2 MiB units is refused, not rounded") {
    vm.memory = 2 * model::k_gib - model::k_mib;
    check_refused(hy::render_create_vm(lab, vm, k_root), "not a multiple of 2 MiB");
    vm.memory = 1536 * model::k_mib;
    CHECK(hy::render_create_vm(lab, vm, k_root).ok());
  }
  SECTION("memory above the classroom's cap") {
    vm.memory = 4 * model::k_gib;
    check_refused(hy::render_create_vm(lab, vm, k_root), "within the cap");
  }
  SECTION("direct kernel boot") {
    lab.image.boot = model::BootMode::kernel;
    check_refused(hy::render_create_vm(lab, vm, k_root), "cannot boot a kernel directly");
  }
  SECTION("a NIC on a network of another team") {
    vm.nics[0].network = "cd26-team2-lan";
    check_refused(hy::render_create_vm(lab, vm, k_root), "is not in team team1");
  }
  SECTION("a nat network without a gateway") {
    net.gateway.clear();
    check_refused(hy::render_create_network(lab, net), "needs a subnet and a gateway");
  }
}
