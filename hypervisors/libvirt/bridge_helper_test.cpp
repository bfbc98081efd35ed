#include "hypervisors/libvirt/bridge_helper.hpp"

#include <sys/stat.h>

#include <fstream>

#include <catch2/catch.hpp>

#include "tests/support/golden.hpp"

namespace labctl::hv::libvirt {

TEST_CASE("qemu:///session URIs are told from system and remote ones", "[unit]") {
  CHECK(is_session_uri("qemu:///session"));
  CHECK(is_session_uri("qemu+unix:///session"));
  CHECK(is_session_uri("qemu+ssh://teacher@hv2/session"));
  CHECK_FALSE(is_session_uri("qemu:///system"));
  CHECK_FALSE(is_session_uri("qemu+ssh://root@hv2/system"));
  CHECK_FALSE(is_session_uri("test:///default"));
  CHECK_FALSE(is_session_uri("hyperv://"));
}

TEST_CASE("qemu-bridge-helper's bridge.conf must allow the lab's bridges", "[unit]") {
  labctl::testing::ScratchDir scratch("lct-bridge-conf");
  const auto conf = scratch.path() / "bridge.conf";
  const auto write = [&](const std::string& text, mode_t mode) {
    std::ofstream(conf) << text;
    ::chmod(conf.c_str(), mode);
  };
  SECTION("no bridge network: nothing to check") {
    CHECK(check_bridge_helper({}, conf).ok());
  }
  SECTION("a missing file says how to create it") {
    const Status st = check_bridge_helper({"br0"}, conf);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().message ==
          conf.string() +
              " is missing: qemu:///session joins host bridges through qemu-bridge-helper, which "
              "needs it; as root: mkdir -p " +
              scratch.path().string() + "; echo 'allow br0' >> " + conf.string() + "; chmod 644 " +
              conf.string());
  }
  SECTION("allowed and readable by all") {
    write("# classroom\nallow br0\nallow lab1\n", 0644);
    CHECK(check_bridge_helper({"br0", "lab1"}, conf).ok());
  }
  SECTION("allow all") {
    write("allow all\n", 0644);
    CHECK(check_bridge_helper({"br0"}, conf).ok());
  }
  SECTION("a bridge not allowed is named, with the line to add") {
    write("allow br0\n", 0644);
    const Status st = check_bridge_helper({"br0", "br1"}, conf);
    REQUIRE_FALSE(st.ok());
    CHECK_THAT(st.error().message, Catch::Contains("allow bridge(s) br0, br1"));
    CHECK_THAT(st.error().message, Catch::Contains("echo 'allow br1' >> " + conf.string()));
    CHECK_THAT(st.error().message, !Catch::Contains("echo 'allow br0'"));
  }
  SECTION("readable by root only") {
    write("allow br0\n", 0600);
    const Status st = check_bridge_helper({"br0"}, conf);
    REQUIRE_FALSE(st.ok());
    CHECK_THAT(st.error().message, Catch::Contains("must be readable by all"));
    CHECK_THAT(st.error().message, Catch::EndsWith("chmod 644 " + conf.string()));
  }
  SECTION("include lines are followed") {
    const auto extra = scratch.path() / "classroom.conf";
    std::ofstream(extra) << "allow br7\n";
    write("include " + extra.string() + "\n", 0644);
    CHECK(check_bridge_helper({"br7"}, conf).ok());
  }
}

}  // namespace labctl::hv::libvirt
