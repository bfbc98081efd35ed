// The labctl executable on bad input: exit code 2 and a message that says what is wrong,
// with nothing from the input able to drive the terminal.

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "provision/sys/process.hpp"
#include "tests/support/golden.hpp"

namespace {

labctl::sys::ProcessResult labctl_run(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {std::string(LABCTL_BINARY_DIR) + "/labctl"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto result = labctl::sys::SystemRunner().run(argv, {.env = {{"NO_COLOR", "1"}}});
  REQUIRE(result.ok());
  return *result;
}

}  // namespace

TEST_CASE("labctl names what is wrong with its input", "[unit][cli]") {
  labctl::testing::ScratchDir scratch("lct-cli-input");
  SECTION("an unknown command is named") {
    const auto run = labctl_run({"-f", "lab.yaml", "valdiate"});
    CHECK(run.exit_code == 2);
    CHECK(run.err == "labctl: unknown command 'valdiate' (see labctl --help)\n");
  }
  SECTION("a lab file that is not a regular file is refused with exit code 2") {
    for (const std::string& path : {scratch.path().string(), std::string("/dev/zero")}) {
      const auto run = labctl_run({"validate", path});
      CHECK(run.exit_code == 2);
      CHECK(run.err == "labctl: " + path +
                           ": not a regular file (a lab file is a YAML file, not a directory, "
                           "device or pipe)\n");
    }
  }
  SECTION("control characters from the lab file are escaped in the message") {
    const std::string file = (scratch.path() / "lab.yaml").string();
    std::ofstream(file) << "classroom: cd26\nteams: {names: [\"a\\e[2J\\r\\nok\"]}\n"
                           "template: {networks: {lan: {kind: nat}}, vms: {vm1: }}\n";
    const auto run = labctl_run({"validate", file});
    CHECK(run.exit_code == 2);
    CHECK(run.err == "labctl: " + file +
                         ":2:17: teams.names[0]: invalid team name 'a\\x1b[2J\\r\\nok': use "
                         "lower-case letters, digits and '-', starting with a letter, not ending "
                         "with '-', at most 32 characters\n");
  }
}
