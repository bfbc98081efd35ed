#pragma once

// The labctl executable as the [exe], [vm] and [system] tests drive it: one lab file and one state
// directory under the test's scratch directory, labctl's stderr (stage times, errors) echoed
// so that a failed run shows what labctl said, and `down --all` when the test ends, however
// it ends.

#include <filesystem>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "provision/sys/process.hpp"
#include "tests/support/labs.hpp"

namespace labctl::testing {

// A classroom name unique per run: `prefix` + 6 hex digits (short: bridges are named
// "{classroom}{team_index}{net}", within Linux's 15 characters).
inline std::string unique_classroom(const std::string& prefix) {
  std::random_device random;
  return fmt::format("{}{:06x}", prefix, random() & 0xffffffU);
}

struct LabctlCliOptions {
  // Arguments before the command's own, e.g. {"--connect", "qemu:///system"}.
  std::vector<std::string> global_args;
  // Environment beside LABCTL_STATE_DIR and NO_COLOR.
  std::map<std::string, std::string> env;
  // Bounds every run (through timeout(1)) when above zero.
  int timeout_seconds = 0;
  // Echo stdout too, not only stderr.
  bool echo_stdout = false;
};

class LabctlCli {
 public:
  explicit LabctlCli(const std::filesystem::path& dir, LabctlCliOptions options = {})
      : m_file((dir / "lab.yaml").string()), m_options(std::move(options)) {
    m_options.env.emplace("LABCTL_STATE_DIR", (dir / "state").string());
    m_options.env.emplace("NO_COLOR", "1");
    // Version checks ask no registry beyond this machine unless a test says otherwise: a
    // closed loopback port refuses at once (plan then warns and goes on).
    m_options.env.emplace("LABCTL_REGISTRY", "http://127.0.0.1:9");
    m_options.env.emplace("LABCTL_UPSTREAM", "http://127.0.0.1:9");
    // A classroom registry that a test's `up` starts keeps its files in the scratch
    // directory, never in the user's cache; `down --all` stops it.
    m_options.env.emplace("LABCTL_REGISTRY_CACHE", (dir / "registry-cache").string());
  }

  sys::ProcessResult run(const std::vector<std::string>& args) const {
    std::vector<std::string> argv;
    if (m_options.timeout_seconds > 0) {
      argv = {"timeout", std::to_string(m_options.timeout_seconds)};
    }
    argv.push_back(std::string(LABCTL_BINARY_DIR) + "/labctl");
    argv.insert(argv.end(), {"-f", m_file});
    argv.insert(argv.end(), m_options.global_args.begin(), m_options.global_args.end());
    argv.insert(argv.end(), args.begin(), args.end());
    sys::ProcessOptions process;
    process.env = m_options.env;
    auto result = sys::SystemRunner().run(argv, process);
    REQUIRE(result.ok());
    std::cerr << "$ labctl " << fmt::format("{}", fmt::join(args, " ")) << "  -> "
              << result->exit_code << "\n"
              << (m_options.echo_stdout ? result->out : std::string()) << result->err;
    return *result;
  }

  // The command line of a run through env(1), with this CLI's environment: for a labctl that
  // keeps running (`serve`), started by the test as a live process.
  std::vector<std::string> command(const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {"env"};
    for (const auto& [name, value] : m_options.env) {
      argv.push_back(name + "=" + value);
    }
    argv.push_back(std::string(LABCTL_BINARY_DIR) + "/labctl");
    argv.insert(argv.end(), {"-f", m_file});
    argv.insert(argv.end(), m_options.global_args.begin(), m_options.global_args.end());
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }
  const std::string& file() const { return m_file; }

 private:
  std::string m_file;
  LabctlCliOptions m_options;
};

// `down --all --yes` (after `extra_args`) when the test ends, unless the test did it itself
// and set `done`.
struct DownOnExit {
  const LabctlCli& labctl;
  std::vector<std::string> extra_args;
  bool done = false;

  ~DownOnExit() {
    if (done) {
      return;
    }
    std::vector<std::string> args = extra_args;
    args.insert(args.end(), {"down", "--all", "--yes"});
    labctl.run(args);
  }
};

}  // namespace labctl::testing
