#include <catch2/catch.hpp>

#include "tests/support/golden.hpp"
#include "tests/support/lan.hpp"

// The stand-in LAN of the bridge tests (tests/lan.hpp), without a VM: a network namespace
// joined by a veth to the test's bridge asks for an address with busybox's udhcpc, and the
// test's dnsmasq leases it one from its range. Everything made here is gone afterwards.

namespace {

using namespace labctl;

std::string run(const std::vector<std::string>& argv) {
  auto result = sys::SystemRunner().run(argv);
  REQUIRE(result.ok());
  INFO(result->out << result->err);
  return result->exit_code == 0 ? result->out : "exit " + std::to_string(result->exit_code);
}

// A namespace with one end of a veth, the other end on `bridge`.
struct Client {
  std::string ns, veth;
  Client(const std::string& bridge, const std::string& name) : ns(name), veth(name + "h") {
    run({"ip", "netns", "add", ns});
    run({"ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns});
    run({"ip", "link", "set", veth, "master", bridge, "up"});
    run({"ip", "-n", ns, "link", "set", "eth0", "address", "02:00:00:aa:bb:01", "up"});
  }
  ~Client() {
    static_cast<void>(sys::SystemRunner().run({"ip", "link", "del", veth}));
    static_cast<void>(sys::SystemRunner().run({"ip", "netns", "del", ns}));
  }
};

}  // namespace

TEST_CASE("the test LAN's dnsmasq leases an address to a machine on its bridge", "[system]") {
  testing::ScratchDir scratch("lct-lan");
  std::string bridge;
  {
    testing::TestLan lan(scratch.path());
    INFO(lan.error());
    REQUIRE(lan.error().empty());
    bridge = lan.bridge();
    const Client client(lan.bridge(), "lct" + lan.bridge().substr(6));
    const std::string out = run({"ip", "netns", "exec", client.ns, "busybox", "udhcpc", "-i",
                                 "eth0", "-n", "-q", "-f", "-t", "5", "-s", "/bin/true"});
    CHECK(out.find("exit") == std::string::npos);
    const std::string ip = lan.lease_of("02:00:00:aa:bb:01");
    INFO(ip);
    CHECK(lan.in_range(ip));
  }
  CHECK(run({"ip", "link", "show", bridge}).rfind("exit", 0) == 0);  // deleted
}
