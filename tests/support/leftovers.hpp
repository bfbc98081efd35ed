#pragma once

// What a classroom still holds on this machine after `down`, looked up without labctl: every
// libvirt domain, network and pool whose XML carries labctl's tag for the classroom (or whose
// name starts with it), every volume of any pool named after it, every network device named
// after it (the bridges labctl creates hold the classroom's name), and its pool directory. Empty
// when nothing is left.

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "provision/sys/process.hpp"
#include "tests/support/labctl_cli.hpp"

namespace labctl::testing {

inline std::vector<std::string> lines_of(const std::vector<std::string>& argv) {
  auto result = sys::SystemRunner().run(argv);
  REQUIRE(result.ok());
  std::vector<std::string> lines;
  std::istringstream in(result->out);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) {
      lines.push_back(line);
    }
  }
  return lines;
}

inline std::vector<std::string> leftovers(const std::string& uri, const std::string& classroom) {
  const std::string tag = "classroom=\"" + classroom + "\"";
  const auto virsh = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"virsh", "-q", "-c", uri});
    return lines_of(args);
  };
  const auto owned = [&](const std::string& name, const std::string& xml) {
    return name.rfind(classroom, 0) == 0 || xml.find(tag) != std::string::npos;
  };
  const auto dump = [&](const std::string& command, const std::string& name) {
    std::string xml;
    for (const auto& line : virsh({command, name})) {
      xml += line + "\n";
    }
    return xml;
  };
  std::vector<std::string> left;
  for (const auto& name : virsh({"list", "--all", "--name"})) {
    if (owned(name, dump("dumpxml", name))) {
      left.push_back("domain " + name);
    }
  }
  for (const auto& name : virsh({"net-list", "--all", "--name"})) {
    if (owned(name, dump("net-dumpxml", name))) {
      left.push_back("network " + name);
    }
  }
  for (const auto& pool : virsh({"pool-list", "--all", "--name"})) {
    if (owned(pool, dump("pool-dumpxml", pool))) {
      left.push_back("pool " + pool);
    }
  }
  // Volumes are listed by active pools only (an inactive one has none to show).
  for (const auto& pool : virsh({"pool-list", "--name"})) {
    for (const auto& volume : virsh({"vol-list", "--pool", pool})) {
      if (volume.find(classroom) != std::string::npos) {
        left.push_back("volume " + volume);
      }
    }
  }
  for (const auto& link : lines_of({"ip", "-o", "link", "show"})) {
    // "7: e2eab12cd1lan: <BROADCAST,..." (or "name@parent:")
    const auto start = link.find(": ") + 2;
    const std::string name = link.substr(start, link.find_first_of(":@", start) - start);
    if (name.find(classroom) != std::string::npos) {
      left.push_back("network device " + name);
    }
  }
  const std::filesystem::path dir = std::filesystem::path("/var/lib/libvirt/labctl") / classroom;
  if (std::filesystem::exists(dir)) {
    left.push_back("directory " + dir.string());
  }
  return left;
}

// The test's own `down --all --yes`, last: it succeeds and leaves nothing of the classroom.
inline void check_down_leaves_nothing(const LabctlCli& labctl, DownOnExit& teardown,
                                      const std::string& uri, const std::string& classroom) {
  std::vector<std::string> args = teardown.extra_args;
  args.insert(args.end(), {"down", "--all", "--yes"});
  const auto down = labctl.run(args);
  teardown.done = true;
  CHECK(down.exit_code == 0);
  CHECK(leftovers(uri, classroom) == std::vector<std::string>{});
}

}  // namespace labctl::testing
