#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/golden.hpp"
#include "tests/support/labctl_cli.hpp"
#include "tests/support/leftovers.hpp"

// The failure path of `up`, for real, on qemu:///system: a VM whose kernel is told to run
// /bin/false as init boots, panics when that init exits ("Attempted to kill init!") and hangs
// there, so it never gets an address. `up` sees the panic on the serial console and fails the
// stage at once (not at `timeouts.address`, 5 minutes here), exits 1, and names the team, the
// VM and the stage, with the console's lines that show the panic; `--json` gives the same on
// stdout; `status` shows where the VM stands. The image is the cached Docker image (the kernel
// command line is not part of its key).

namespace {

using labctl::testing::DownOnExit;
using labctl::testing::LabctlCli;

std::string lab_text(const std::string& classroom) {
  return fmt::format(R"(classroom: {}
image: {{ build: debian-12, with: [docker], cmdline: "root=/dev/vda rw console=ttyS0 init=/bin/false" }}
defaults: {{ memory: 1GiB, vcpus: 1, disk: 4GiB }}
timeouts: {{ address: 5m }}
teams: {{ names: [blue] }}
template:
  networks:
    lan: {{ kind: nat, bridge_name: "{{classroom}}{{team_index}}{{net}}" }}
  vms:
    vm1: {{}}
)",
                     classroom);
}

}  // namespace

TEST_CASE("up names the VM and stage that failed, with its serial console", "[vm][up-failure]") {
  labctl::testing::ScratchDir scratch("lct-upfail");
  const std::string classroom = labctl::testing::unique_classroom("upf");
  std::ofstream(scratch.path() / "lab.yaml") << lab_text(classroom);
  const LabctlCli labctl(scratch.path(), {.global_args = {"--connect", "qemu:///system"}});
  DownOnExit teardown{labctl};

  const auto up = labctl.run({"--json", "up", "--all"});
  INFO(up.out << up.err);
  CHECK(up.exit_code == 1);
  // Under --json stdout is one document: the error, and the readiness rows as its result.
  const auto doc = nlohmann::json::parse(up.out);
  const std::string error = doc["error"]["message"];
  // Failed at once, from the console, not at the address timeout.
  CHECK(error.find("blue/vm1: stage address failed: the console shows a kernel panic: ") !=
        std::string::npos);
  CHECK(error.find("timed out") == std::string::npos);
  // The serial tail: the kernel's panic.
  CHECK(error.find("Kernel panic - not syncing: Attempted to kill init!") != std::string::npos);
  CHECK(error.find("      | ") != std::string::npos);

  // The VM got as far as running, and failed at address.
  const auto& rows = doc["result"];
  REQUIRE(rows.size() == 1);
  CHECK(rows[0]["vm"] == "vm1");
  CHECK(rows[0]["stage"] == "running");
  CHECK(rows[0]["failed"] == "address");
  CHECK(std::string(rows[0]["message"]).find("Attempted to kill init!") != std::string::npos);

  const auto status = labctl.run({"status", "--json"});
  REQUIRE(status.exit_code == 0);
  const auto vms = nlohmann::json::parse(status.out);
  REQUIRE(vms.size() == 1);
  CHECK(vms[0]["stage"] == "running");

  labctl::testing::check_down_leaves_nothing(labctl, teardown, "qemu:///system", classroom);
}
