#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/golden.hpp"
#include "tests/support/labctl_cli.hpp"

// `--json` as a program reads it: every subcommand, on success and on failure, prints exactly
// one JSON document on stdout and only JSON lines on stderr. The labctl executable runs
// against test:///default (a fresh empty host per process), so nothing real is touched;
// commands that need a real guest are run on their failure paths.

namespace {

using labctl::testing::LabctlCli;
using labctl::testing::ScratchDir;

const std::string k_lab = labctl::testing::small_lab_text("jsn", "[red, blue]");

// The same classroom over two hosts: red pinned to test:///default, blue to Hyper-V (planned
// against an empty host here, where there is no powershell.exe).
constexpr const char* k_two_hosts = R"(classroom: jsn
hosts:
  - { uri: "test:///default" }
  - { uri: "hyperv://hv1" }
image: { build: debian-12, with: [docker], boot: efi }
defaults: { memory: 512MiB, disk: 2GiB }
teams:
  names: [red, blue]
  overrides:
    red: { host: "test:///default" }
    blue: { host: "hyperv://hv1" }
template:
  networks:
    lan: { kind: nat }
  vms:
    vm1: {}
)";

struct Case {
  std::vector<std::string> args;
  int exit_code = 0;
  std::string kind;  // the error's kind when exit_code != 0
};

// One run under --json: the document on stdout, after checking stderr's lines.
nlohmann::json run_json(const LabctlCli& labctl, const Case& c) {
  std::vector<std::string> args = {"--json"};
  args.insert(args.end(), c.args.begin(), c.args.end());
  const auto result = labctl.run(args);
  INFO("stdout:\n" << result.out << "\nstderr:\n" << result.err);
  CHECK(result.exit_code == c.exit_code);
  std::istringstream err(result.err);
  for (std::string line; std::getline(err, line);) {
    INFO("stderr line: " << line);
    CHECK(nlohmann::json::parse(line, nullptr, false).is_object());
  }
  const auto doc = nlohmann::json::parse(result.out, nullptr, false);
  REQUIRE_FALSE(doc.is_discarded());  // exactly one document: trailing text fails the parse
  if (c.exit_code != 0) {
    REQUIRE(doc.contains("error"));
    CHECK(doc["error"].value("kind", "") == c.kind);
    CHECK_FALSE(doc["error"].value("message", "").empty());
  }
  return doc;
}

std::string joined(const std::vector<std::string>& args) {
  std::string out;
  for (const std::string& arg : args) {
    out += (out.empty() ? "" : " ") + arg;
  }
  return out;
}

}  // namespace

TEST_CASE("--json: every subcommand prints one JSON document, also on failure", "[exe][json]") {
  ScratchDir scratch("lct-json");
  std::ofstream(scratch.path() / "lab.yaml") << k_lab;
  const LabctlCli labctl(scratch.path(), {.global_args = {"--connect", "test:///default"}});
  const std::vector<Case> cases = {
      {{"validate"}},
      {{"show", "red"}},
      {{"show", "green"}, 2, "usage"},
      // --force: test:///default reports 3 MiB free, and plan makes up's memory check.
      {{"plan", "--all", "--force"}},
      {{"plan"}, 2, "usage"},
      {{"up", "--all", "--dry-run", "--force"}},
      {{"up", "green"}, 2, "usage"},
      {{"status"}},
      {{"status", "green"}, 2, "usage"},
      {{"status", "--watch", "--count", "1"}},
      {{"top", "--count", "1"}},
      {{"reset", "red", "vm9"}, 2, "usage"},
      {{"ssh", "red", "vm1"}, 2, "usage"},
      {{"ssh", "red", "vm1", "--", "true"}, 1, "operation"},
      {{"image", "pull"}, 2, "usage"},
      {{"squash", "ls", "red"}},
      {{"squash", "add", "red", "vm1", "--version", "6.1.0"}, 2, "usage"},  // no room
      {{"squash", "rm", "red", "vm1", "nope"}, 2, "usage"},
      {{"squash", "upgrade", "red", "vm1", "main", "--version", "x y"}, 2, "usage"},
      {{"handout", "--all"}},
      {{"handout"}, 2, "usage"},
      {{"down", "--all", "--yes"}},
      {{"down"}, 2, "usage"},
      {{"--help"}},
      {{"--version"}},
      {{"frobnicate"}, 2, "usage"},
      {{"status", "--no-such-option"}, 2, "usage"},
  };
  for (const Case& c : cases) {
    DYNAMIC_SECTION("labctl --json " << joined(c.args)) {
      run_json(labctl, c);
    }
  }
}

TEST_CASE("--json: what each document holds", "[exe][json]") {
  ScratchDir scratch("lct-json");
  std::ofstream(scratch.path() / "lab.yaml") << k_lab;
  const LabctlCli labctl(scratch.path(), {.global_args = {"--connect", "test:///default"}});

  SECTION("validate: the classroom's summary") {
    const auto doc = run_json(labctl, {{"validate"}});
    CHECK(doc ==
          nlohmann::json{{"file", labctl.file()}, {"classroom", "jsn"}, {"teams", 2}, {"vms", 2}});
  }
  SECTION("a lab-file error: file, line, column and key path as fields") {
    std::string bad = k_lab;
    const std::size_t teams = bad.find("{ names");
    std::ofstream(scratch.path() / "lab.yaml")
        << bad.replace(teams, bad.find('\n', teams) - teams, "{ count: many }");
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"validate"}, {"plan", "--all"}, {"up", "--all"}, {"status"}, {"down", "--all"}}) {
      const auto error = run_json(labctl, {args, 2, "lab"}).at("error");
      CHECK(error.value("file", "") == labctl.file());
      CHECK(error.value("line", 0) == 4);
      CHECK(error.value("column", 0) == 17);
      CHECK(error.value("key", "") == "teams.count");
    }
  }
  SECTION("a failed up: the error, not an empty stdout") {
    // test:///default has a few MiB free: the capacity check refuses before anything is made.
    const auto doc = run_json(labctl, {{"up", "--all", "--no-wait"}, 1, "operation"});
    CHECK(doc["error"].value("message", "").find("test:///default") != std::string::npos);
  }
  SECTION("plan: one entry per host, with its host") {
    const auto hosts = run_json(labctl, {{"plan", "--all", "--force"}}).at("hosts");
    REQUIRE(hosts.size() == 1);
    CHECK(hosts[0].at("host") == "test:///default");
    CHECK_FALSE(hosts[0].at("actions").empty());
  }
}

TEST_CASE("--json: plan over two hosts is one document, Hyper-V's script in a field",
          "[exe][json]") {
  ScratchDir scratch("lct-json");
  std::ofstream(scratch.path() / "lab.yaml") << k_two_hosts;
  const LabctlCli labctl(scratch.path());
  const auto hosts = run_json(labctl, {{"plan", "--all", "--force"}}).at("hosts");
  REQUIRE(hosts.size() == 2);
  CHECK(hosts[0].at("host") == "test:///default");
  CHECK_FALSE(hosts[0].contains("powershell"));
  CHECK(hosts[1].at("host") == "hyperv://hv1");
  CHECK_FALSE(hosts[1].at("actions").empty());
  REQUIRE_FALSE(hosts[1].at("powershell").empty());
  const auto& scripts = hosts[1].at("powershell");
  CHECK(std::any_of(scripts.begin(), scripts.end(), [](const auto& script) {
    return script.template get<std::string>().starts_with("# labctl create-network jsn-blue-lan");
  }));
}
