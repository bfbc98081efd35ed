#include <unistd.h>

#include <fstream>
#include <iostream>
#include <random>

#include <fmt/format.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "provision/sys/process.hpp"
#include "tests/golden.hpp"

// End to end, through the labctl executable, on qemu:///system with real QEMU VMs under TCG:
// a one-team classroom is brought up (networks, pool, base image, overlay, seed, domain),
// its VM boots, cloud-init runs, Docker starts, two Squash TM stand-in instances of
// different versions answer on 8081 and 8082; then status, ssh, squash and down are checked.
// The stand-in images are built inside the VM (--standin): no registry is reachable here.

namespace {

using namespace labctl;

constexpr const char* k_uri = "qemu:///system";

// "e2e" + 8 hex digits: unique per run, and short enough for 15-character bridge names.
std::string unique_classroom() {
  std::random_device random;
  return fmt::format("e2e{:08x}", random());
}

std::string lab_text(const std::string& classroom) {
  return fmt::format(R"(classroom: {}
title: "labctl end-to-end test"
image:
  build: debian-12
  with: [docker]
  name: lct-images-debian-12-docker   # the image the [image] test builds: one build per run
accelerator: auto
docker: {{ source: preinstalled }}
squashtm: {{ image: labctl-standin/squash-tm }}
defaults: {{ memory: 2GiB, vcpus: 1, disk: 4GiB }}
teams: {{ names: [blue] }}
template:
  networks:
    lan: {{ kind: nat }}
    lab: {{ kind: isolated }}
  vms:
    vm1:
      instances:
        - {{ name: main, version: 6.0.0 }}
        - {{ name: old, version: 5.1.0, db: h2 }}
)",
                     classroom);
}

class Labctl {
 public:
  explicit Labctl(const std::filesystem::path& dir) : m_dir(dir) {
    m_file = (dir / "lab.yaml").string();
    m_env = {{"LABCTL_STATE_DIR", (dir / "state").string()}, {"NO_COLOR", "1"}};
  }
  sys::ProcessResult run(std::vector<std::string> args) {
    std::vector<std::string> argv{std::string(LABCTL_BINARY_DIR) + "/labctl", "-f", m_file,
                                  "--connect", k_uri};
    argv.insert(argv.end(), args.begin(), args.end());
    sys::ProcessOptions options;
    options.env = m_env;
    auto result = m_runner.run(argv, options);
    REQUIRE(result.ok());
    std::cerr << "$ labctl " << fmt::format("{}", fmt::join(args, " ")) << "  -> "
              << result->exit_code << "\n"
              << result->err;
    return *result;
  }
  const std::string& file() const { return m_file; }

 private:
  std::filesystem::path m_dir;
  std::string m_file;
  std::map<std::string, std::string> m_env;
  sys::SystemRunner m_runner;
};

// `down --all` when the test ends, however it ends: nothing of the classroom stays behind.
struct Teardown {
  Labctl& labctl;
  bool done = false;
  ~Teardown() {
    if (!done) {
      labctl.run({"down", "--all", "--yes"});
    }
  }
};

std::string virsh(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"virsh", "-q", "-c", k_uri};
  argv.insert(argv.end(), args.begin(), args.end());
  sys::SystemRunner runner;
  auto result = runner.run(argv);
  REQUIRE(result.ok());
  return result->out;
}

std::string http_get(const std::string& url) {
  sys::SystemRunner runner;
  auto result = runner.run({"curl", "-sS", "--max-time", "10", url});
  REQUIRE(result.ok());
  return result->out;
}

}  // namespace

TEST_CASE("a real team, up to its Squash TM instances and down again", "[vm][e2e]") {
  labctl::testing::ScratchDir scratch("lct-e2e");
  const std::string classroom = unique_classroom();
  std::ofstream(scratch.path() / "lab.yaml") << lab_text(classroom);
  Labctl labctl(scratch.path());
  Teardown teardown{labctl};

  const auto up = labctl.run({"up", "--all", "--standin"});
  if (up.exit_code != 0) {
    scratch.keep();
  }
  INFO(up.out);
  REQUIRE(up.exit_code == 0);
  CHECK(virsh({"domstate", classroom + "-blue-vm1"}).find("running") != std::string::npos);

  const auto status = labctl.run({"status", "--json"});
  REQUIRE(status.exit_code == 0);
  const auto rows = nlohmann::json::parse(status.out);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0]["state"] == "running");
  CHECK(rows[0]["stage"] == "stack healthy");
  const std::string ip = rows[0]["ip"];
  REQUIRE(rows[0]["instances"].size() == 2);
  for (const auto& instance : rows[0]["instances"]) {
    CHECK(instance["healthy"] == true);
  }

  // Each instance answers on its own port with its own version.
  CHECK(http_get(fmt::format("http://{}:8081/squash/isSquashAlive", ip)).find("6.0.0") !=
        std::string::npos);
  CHECK(http_get(fmt::format("http://{}:8082/squash/isSquashAlive", ip)).find("5.1.0") !=
        std::string::npos);

  // ssh runs a command with the pinned host key and the classroom's key; the guest sees
  // the 2 GiB cap.
  const auto ps =
      labctl.run({"ssh", "blue", "vm1", "--", "sudo", "docker", "ps", "--format", "'{{.Names}}'"});
  CHECK(ps.exit_code == 0);
  CHECK(ps.out.find("squash-main") != std::string::npos);
  CHECK(ps.out.find("squash-old") != std::string::npos);
  const auto meminfo =
      labctl.run({"ssh", "blue", "vm1", "--", "grep", "MemTotal", "/proc/meminfo"});
  REQUIRE(meminfo.exit_code == 0);
  const long kib = std::stol(meminfo.out.substr(meminfo.out.find_first_of("0123456789")));
  CHECK(kib > 1800L * 1024);
  CHECK(kib <= 2048L * 1024);

  // Converged: a plan has nothing left to do.
  const auto again = labctl.run({"plan", "--all"});
  CHECK(again.exit_code == 0);
  CHECK(again.out.find("Nothing to do") != std::string::npos);

  const auto down = labctl.run({"down", "--all", "--yes"});
  teardown.done = true;
  CHECK(down.exit_code == 0);
  CHECK(virsh({"list", "--all", "--name"}).find(classroom) == std::string::npos);
  CHECK(virsh({"net-list", "--all", "--name"}).find(classroom) == std::string::npos);
  CHECK(virsh({"pool-list", "--all", "--name"}).find(classroom) == std::string::npos);
}
