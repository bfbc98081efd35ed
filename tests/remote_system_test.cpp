#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>

#include <fmt/format.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "hypervisors/hypervisor.hpp"
#include "provision/sys/process.hpp"
#include "tests/support/golden.hpp"
#include "tests/support/labctl_cli.hpp"
#include "tests/support/sshd.hpp"

// A remote libvirt host for real, over loopback: the lab's only host is
// qemu+ssh://root@127.0.0.1:PORT/system, PORT an sshd started by the test with keys it
// generates, and the host key checked against a known_hosts file the test writes. Behind that
// sshd is this machine's own libvirtd, so what labctl does over SSH is checked independently
// with `virsh -c qemu:///system`. The team's VM boots a blank disk (no guest OS, no waiting):
// `up --no-wait`, `status`, `down --all` through the labctl executable.

namespace {

using namespace labctl;
using testing::DownOnExit;
using testing::LabctlCli;

constexpr const char* k_local = "qemu:///system";

// "rmt" + 6 hex digits: unique per run; bridges are "{classroom}{team_index}{net}" (13 chars).
std::string unique_classroom() {
  std::random_device random;
  return fmt::format("rmt{:06x}", random() & 0xffffffU);
}

std::string must_run(const std::vector<std::string>& argv) {
  sys::SystemRunner runner;
  auto out = sys::run_checked(runner, argv);
  INFO((out ? "" : out.error().message));
  REQUIRE(out.ok());
  return *out;
}

// A /24 in 10.214.0.0/16 that no network of the host uses.
std::string free_subnet() {
  auto local = hv::open_hypervisor(k_local);
  REQUIRE(local.ok());
  auto used = (*local)->host_networks();
  REQUIRE(used.ok());
  std::random_device random;
  for (unsigned third = random() % 256, tries = 0; tries < 256;
       ++tries, third = (third + 1) % 256) {
    const std::string cidr = fmt::format("10.214.{}.0/24", third);
    if (std::none_of(used->begin(), used->end(), [&](const auto& n) { return n.cidr == cidr; })) {
      return cidr;
    }
  }
  FAIL("no free /24 in 10.214.0.0/16");
  return "";
}

// One team, one 512MiB VM on a NAT network, booting a blank 64MiB qcow2 "image" pulled from a
// file URL into the test's own cache. NAT puts the subnet on a host bridge, so probing the
// VM's address stays on this machine (nothing answers: the disk is blank).
std::string lab_text(const std::string& classroom, const std::string& uri,
                     const std::filesystem::path& dir) {
  const std::string image = (dir / "blank.qcow2").string();
  must_run({"qemu-img", "create", "-q", "-f", "qcow2", image, "64M"});
  const std::string sha = must_run({"sha256sum", image}).substr(0, 64);
  return fmt::format(R"(classroom: {}
hosts:
  - {{ uri: "{}" }}
image: {{ url: "file://{}", sha256: {}, boot: disk }}
subnets: {}
defaults: {{ memory: 512MiB, disk: 1GiB }}
teams: {{ names: [blue] }}
template:
  networks:
    lan: {{ kind: nat, bridge_name: "{{classroom}}{{team_index}}{{net}}" }}
  vms:
    vm1: {{}}
)",
                     classroom, uri, image, sha, free_subnet());
}

// Bounded (a hung SSH connection must fail the test, not stall the tier), with the test's own
// image cache; stdout is echoed too.
LabctlCli remote_labctl(const std::filesystem::path& dir) {
  return LabctlCli(dir, {.env = {{"LABCTL_CACHE_DIR", (dir / "cache").string()}},
                         .timeout_seconds = 120,
                         .echo_stdout = true});
}

// The names of the local daemon's domains, networks and pools that start with `prefix`.
std::vector<std::string> owned(const std::string& prefix) {
  std::vector<std::string> out;
  for (const char* list : {"list", "net-list", "pool-list"}) {
    std::istringstream names(must_run({"virsh", "-q", "-c", k_local, list, "--all", "--name"}));
    for (std::string name; names >> name;) {  // pool-list pads names with spaces
      if (name.starts_with(prefix)) {
        out.push_back(fmt::format("{} {}", list, name));
      }
    }
  }
  return out;
}

// A known_hosts file with the server's key, and the `ssh` libvirt runs made to use only it:
// OpenSSH reads known_hosts from the user's home, which a test must not touch.
std::string strict_ssh(const std::filesystem::path& dir, const testing::TestSshd& sshd) {
  std::ofstream(dir / "known_hosts") << sshd.known_hosts_line();
  const std::filesystem::path ssh = dir / "ssh";
  std::ofstream(ssh) << "#!/bin/sh\nexec ssh -F none -o UserKnownHostsFile="
                     << (dir / "known_hosts").string()
                     << " -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes \"$@\"\n";
  std::filesystem::permissions(ssh, std::filesystem::perms(0755));
  return ssh.string();
}

// Starts the server; false, with a warning, when this machine has no OpenSSH server (Catch2
// 2 has no SKIP).
bool start_sshd(testing::TestSshd& sshd) {
  if (const std::string why = testing::TestSshd::missing(); !why.empty()) {
    WARN("SKIPPED: " << why);
    return false;
  }
  const std::string why = sshd.start();
  INFO(why);
  REQUIRE(why.empty());
  return true;
}

}  // namespace

TEST_CASE("a team up, in status and down on a qemu+ssh host over a loopback sshd", "[system]") {
  testing::ScratchDir dir("lct-remote");
  testing::TestSshd sshd(dir.path());
  if (!start_sshd(sshd)) {
    return;
  }
  const std::string classroom = unique_classroom();
  const std::string uri =
      fmt::format("qemu+ssh://root@127.0.0.1:{}/system?keyfile={}&no_tty=1&command={}", sshd.port(),
                  sshd.user_key(), strict_ssh(dir.path(), sshd));
  std::ofstream(dir.path() / "lab.yaml") << lab_text(classroom, uri, dir.path());
  const LabctlCli labctl = remote_labctl(dir.path());
  // Whatever happens, the classroom is removed through the local daemon (the same one).
  DownOnExit teardown{labctl, {"--connect", k_local}};
  const std::string vm = classroom + "-blue-vm1";

  const auto plan = labctl.run({"plan", "blue"});
  REQUIRE(plan.exit_code == 0);
  CHECK_THAT(plan.out, Catch::StartsWith("host " + uri + ": 7 actions"));

  const auto up = labctl.run({"up", "blue", "--no-wait"});
  REQUIRE(up.exit_code == 0);
  CHECK_THAT(up.err, Catch::Contains("host " + uri + ": 7 actions"));
  CHECK_THAT(must_run({"virsh", "-q", "-c", k_local, "domstate", vm}),
             Catch::StartsWith("running\n"));
  CHECK(owned(classroom + "-") == std::vector<std::string>{"list " + vm,
                                                           "net-list " + classroom + "-blue-lan",
                                                           "pool-list " + classroom + "-pool"});
  CHECK_THAT(sshd.log(), Catch::Contains("Accepted publickey for root from 127.0.0.1"));

  const auto status = labctl.run({"status", "--json"});
  REQUIRE(status.exit_code == 0);
  const auto rows = nlohmann::json::parse(status.out);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0]["team"] == "blue");
  CHECK(rows[0]["host"] == uri);
  CHECK(rows[0]["state"] == "running");
  CHECK(rows[0]["memory"] == 512 * 1024 * 1024);
  CHECK(rows[0]["stage"] == "running");  // a blank disk: its address never answers
  const auto table = labctl.run({"status"});
  CHECK_THAT(table.out, Catch::Contains(uri) && Catch::Contains("running"));

  const auto down = labctl.run({"down", "--all", "--yes"});
  REQUIRE(down.exit_code == 0);
  teardown.done = true;
  CHECK(owned(classroom + "-").empty());
  CHECK_FALSE(std::filesystem::exists("/var/lib/libvirt/labctl/" + classroom));
}

// Only the refusal: past authentication, libvirt 9.0's libssh transport stops answering on
// large replies (seen here: virConnectGetCapabilities never returned over qemu+libssh), so a
// converging run over it belongs to qemu+ssh, tested above.
TEST_CASE("a qemu+libssh host whose key differs from known_hosts= is refused", "[system]") {
  testing::ScratchDir dir("lct-remote");
  testing::TestSshd sshd(dir.path());
  if (!start_sshd(sshd)) {
    return;
  }
  const std::string classroom = unique_classroom();
  const std::string other = (dir.path() / "other_key").string();
  must_run({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", other});
  const std::string key = testing::read_file(other + ".pub");
  std::ofstream(dir.path() / "known_hosts")
      << fmt::format("[127.0.0.1]:{} {}\n", sshd.port(), key.substr(0, key.rfind(' ')));
  const std::string uri = fmt::format(
      "qemu+libssh://root@127.0.0.1:{}/system?keyfile={}&known_hosts={}&known_hosts_verify=normal",
      sshd.port(), sshd.user_key(), (dir.path() / "known_hosts").string());
  std::ofstream(dir.path() / "lab.yaml") << lab_text(classroom, uri, dir.path());
  const LabctlCli labctl = remote_labctl(dir.path());
  // Whatever happens, the classroom is removed through the local daemon (the same one).
  DownOnExit teardown{labctl, {"--connect", k_local}};

  const auto up = labctl.run({"up", "blue", "--no-wait"});
  CHECK(up.exit_code == 1);
  CHECK_THAT(up.err, Catch::Contains(uri + " is unreachable (") &&
                         Catch::Contains("SSH HOST KEY VERIFICATION FAILED") &&
                         Catch::Contains("cannot place blue"));
  CHECK_THAT(sshd.log(), !Catch::Contains("Accepted publickey"));
  CHECK(owned(classroom + "-").empty());
}
