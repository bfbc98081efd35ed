#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "provision/sys/process.hpp"
#include "tests/support/golden.hpp"
#include "tests/support/labctl_cli.hpp"

// Issue 13, point 3, on the real daemon (qemu:///system), through the labctl executable: names
// the classroom needs that something else holds. Nothing boots: `up` must refuse before it
// creates anything, and what it refused over is left exactly as it was.

namespace {

using namespace labctl;
using testing::DownOnExit;
using testing::LabctlCli;

constexpr const char* k_uri = "qemu:///system";

sys::ProcessResult virsh(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"virsh", "-q", "-c", k_uri};
  argv.insert(argv.end(), args.begin(), args.end());
  auto result = sys::SystemRunner().run(argv);
  REQUIRE(result.ok());
  return *result;
}

// One team "blue", one VM on a nat network; the image is never fetched.
std::string lab_text(const std::string& classroom) {
  return fmt::format(R"(classroom: {}
image: {{ url: "file:///nonexistent/blank.qcow2", sha256: {}, boot: disk }}
subnets: 10.215.0.0/16
defaults: {{ memory: 512MiB, disk: 1GiB }}
teams: {{ names: [blue] }}
template:
  networks:
    lan: {{ kind: nat, bridge_name: "{{classroom}}{{team_index}}{{net}}" }}
  vms:
    vm1: {{}}
)",
                     classroom, std::string(64, '0'));
}

// A libvirt object defined by the test from an XML file, undefined when the test ends however
// it ends.
class Defined {
 public:
  Defined(const std::filesystem::path& dir, std::string kind, std::string name,
          const std::string& xml)
      : m_kind(std::move(kind)), m_name(std::move(name)) {
    const auto file = dir / (m_name + ".xml");
    std::ofstream(file) << xml;
    const auto defined = virsh({m_kind == "domain" ? "define" : "net-define", file.string()});
    INFO(defined.err);
    REQUIRE(defined.exit_code == 0);
  }
  ~Defined() { virsh({m_kind == "domain" ? "undefine" : "net-undefine", m_name}); }
  Defined(const Defined&) = delete;
  Defined& operator=(const Defined&) = delete;

  std::string dump() const {
    return virsh({m_kind == "domain" ? "dumpxml" : "net-dumpxml", m_name}).out;
  }

 private:
  std::string m_kind;
  std::string m_name;
};

// The daemon's domains, networks and pools whose names start with `prefix`.
std::vector<std::string> named(const std::string& prefix) {
  std::vector<std::string> out;
  for (const char* list : {"list", "net-list", "pool-list"}) {
    std::istringstream names(virsh({list, "--all", "--name"}).out);
    for (std::string name; names >> name;) {
      if (name.starts_with(prefix)) {
        out.push_back(fmt::format("{} {}", list, name));
      }
    }
  }
  return out;
}

LabctlCli labctl_in(const std::filesystem::path& dir, const std::string& classroom) {
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "lab.yaml") << lab_text(classroom);
  return LabctlCli(dir, {.global_args = {"--connect", k_uri}, .timeout_seconds = 120});
}

}  // namespace

TEST_CASE("a domain defined by hand with a VM's name: plan shows it, up refuses, it is untouched",
          "[system]") {
  testing::ScratchDir dir("lct-conflict");
  const std::string classroom = testing::unique_classroom("lcf");
  const std::string vm = classroom + "-blue-vm1";
  const Defined hand(dir.path(), "domain", vm,
                     "<domain type='qemu'><name>" + vm +
                         "</name><memory unit='MiB'>64</memory>"
                         "<os><type arch='x86_64'>hvm</type></os></domain>");
  const std::string before = hand.dump();
  const LabctlCli labctl = labctl_in(dir.path(), classroom);
  DownOnExit teardown{labctl};

  const auto plan = labctl.run({"plan", "blue"});
  CHECK(plan.exit_code == 1);
  CHECK_THAT(plan.out, Catch::Contains("conflict  vm") && Catch::Contains(vm) &&
                           Catch::Contains("a domain that is not labctl's"));
  CHECK_THAT(plan.err, Catch::Contains("refusing to change anything"));

  const auto json = labctl.run({"--json", "plan", "blue"});
  CHECK(json.exit_code == 1);
  // One document: the error, and the plan so far as its result.
  const auto doc = nlohmann::json::parse(json.out);
  CHECK(doc["error"]["kind"] == "operation");
  const auto& rows = doc["result"]["hosts"][0]["actions"];
  REQUIRE(rows.is_array());
  CHECK(rows[0] == nlohmann::json{{"op", "conflict"},
                                  {"kind", "vm"},
                                  {"name", vm},
                                  {"team", "blue"},
                                  {"vm", "vm1"},
                                  {"reason", "a domain that is not labctl's"}});

  for (const std::vector<std::string>& up : {std::vector<std::string>{"up", "blue", "--dry-run"},
                                             {"up", "blue", "--no-wait"},
                                             {"up", "--all", "--no-wait", "--adopt"}}) {
    const auto refused = labctl.run(up);
    CHECK(refused.exit_code == 1);
    CHECK_THAT(refused.err, Catch::Contains("vm " + vm + ": a domain that is not labctl's") &&
                                Catch::Contains("never redefines, starts or deletes"));
  }
  CHECK(hand.dump() == before);
  // Refused before anything is written: no state directory, no identity claimed.
  CHECK_FALSE(std::filesystem::exists(dir.path() / "state" / classroom));
  CHECK_THAT(virsh({"domstate", vm}).out, Catch::StartsWith("shut off"));
  CHECK(named(classroom) == std::vector<std::string>{"list " + vm});
}

// Two lab files with one classroom name: the objects tagged by the other one's identity are
// not this one's to delete, unless --adopt.
TEST_CASE("down --all leaves a network of another identity, unless --adopt", "[system]") {
  testing::ScratchDir dir("lct-conflict");
  const std::string classroom = testing::unique_classroom("lcf");
  const std::string net = classroom + "-blue-lan";
  const std::string other = "0123456789abcdef0123456789abcdef";
  const Defined theirs(
      dir.path(), "network", net,
      fmt::format("<network><name>{}</name><metadata><labctl:tag "
                  "xmlns:labctl=\"https://labctl.invalid/xmlns/tag/1\" classroom=\"{}\" "
                  "team=\"blue\" role=\"network\" spec=\"x\" identity=\"{}\"/></metadata>"
                  "<bridge name=\"{}1lan\"/></network>",
                  net, classroom, other, classroom));
  const LabctlCli labctl = labctl_in(dir.path() / "second", classroom);
  DownOnExit teardown{labctl};  // whatever the test made, should `up` not refuse

  const auto plan = labctl.run({"plan", "blue"});
  CHECK(plan.exit_code == 1);
  CHECK_THAT(plan.out, Catch::Contains("another lab file (identity " + other + ")"));
  const auto up = labctl.run({"up", "blue", "--no-wait"});
  CHECK(up.exit_code == 1);
  CHECK_THAT(up.err, Catch::Contains("network " + net) && Catch::Contains("give --adopt"));
  const auto down = labctl.run({"down", "--all", "--yes"});
  CHECK(down.exit_code == 1);
  CHECK_THAT(down.err,
             Catch::Contains("down refused, nothing deleted") && Catch::Contains("network " + net));
  CHECK(named(classroom) == std::vector<std::string>{"net-list " + net});

  const auto adopted = labctl.run({"down", "--all", "--yes", "--adopt"});
  CHECK(adopted.exit_code == 0);
  teardown.done = adopted.exit_code == 0;
  CHECK(named(classroom).empty());
}
