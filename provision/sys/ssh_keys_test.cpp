#include "provision/sys/ssh_keys.hpp"

#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "provision/sys/process.hpp"
#include "tests/support/golden.hpp"

using labctl::sys::generate_ed25519;
using labctl::sys::known_hosts_line;
using labctl::sys::public_line_of;

TEST_CASE("ed25519 key pairs come out in OpenSSH formats", "[unit]") {
  auto pair = generate_ed25519("labctl-cd26");
  REQUIRE(pair.ok());

  SECTION("the private key is an unencrypted OpenSSH key ending with a newline") {
    CHECK(pair->private_openssh.rfind("-----BEGIN OPENSSH PRIVATE KEY-----\n", 0) == 0);
    CHECK(pair->private_openssh.find("-----END OPENSSH PRIVATE KEY-----\n") != std::string::npos);
  }
  SECTION("the public line is type, blob and comment") {
    CHECK(pair->public_line.rfind("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA", 0) == 0);
    CHECK(pair->public_line.substr(pair->public_line.size() - 12) == " labctl-cd26");
  }
  SECTION("the public line derives from the private key") {
    auto line = public_line_of(pair->private_openssh, "labctl-cd26");
    REQUIRE(line.ok());
    CHECK(*line == pair->public_line);
  }
  SECTION("two generations differ") {
    auto other = generate_ed25519("labctl-cd26");
    REQUIRE(other.ok());
    CHECK(other->public_line != pair->public_line);
  }
  SECTION("garbage is not a key") {
    CHECK_FALSE(public_line_of("not a key", "").ok());
  }
}

TEST_CASE("OpenSSH's own ssh-keygen reads the generated private key", "[unit]") {
  labctl::testing::ScratchDir scratch("lct-seeds-keygen");
  auto pair = generate_ed25519("");
  REQUIRE(pair.ok());
  const auto key = scratch.path() / "key";
  std::ofstream(key) << pair->private_openssh;
  ::chmod(key.c_str(), 0600);
  labctl::sys::SystemRunner runner;
  auto out = labctl::sys::run_checked(runner, {"ssh-keygen", "-y", "-f", key.string()});
  REQUIRE(out.ok());
  CHECK(*out == pair->public_line + "\n");
}

TEST_CASE("known_hosts lines name the host and drop the comment", "[unit]") {
  const std::string line = "ssh-ed25519 AAAAC3Nza1 cd26-team1-vm1";
  CHECK(known_hosts_line("10.61.1.11", line) == "10.61.1.11 ssh-ed25519 AAAAC3Nza1");
  CHECK(known_hosts_line("127.0.0.1", line, 2222) == "[127.0.0.1]:2222 ssh-ed25519 AAAAC3Nza1");
}
