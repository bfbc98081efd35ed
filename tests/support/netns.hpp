#pragma once

// Machines made of network namespaces, for tests of forwarding through this host: a bridge
// the test makes, with the host's address NET.1 on it, and a namespace joined to it by a
// veth, with NET.2 and its default route through the host. Traffic only to what the test
// made; the caller removes the namespace and the bridge (`ip netns del`, `ip link del`),
// which takes the veth with them.

#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <catch2/catch.hpp>

#include "provision/sys/process.hpp"

namespace labctl::testing {

inline void must_run(const std::vector<std::string>& argv) {
  sys::SystemRunner runner;
  auto done = sys::run_checked(runner, argv);
  INFO(fmt::format("{}", fmt::join(argv, " ")));
  REQUIRE(done.ok());
}

// `net` is "10.253.4": the bridge gets .1/24, the namespace .2/24. The veth's ends are
// `bridge` + "h" and + "n" (so `bridge` has at most 14 characters).
inline void namespace_on_bridge(const std::string& ns, const std::string& bridge,
                                const std::string& net) {
  const std::string host_end = bridge + "h";
  const std::string ns_end = bridge + "n";
  must_run({"ip", "netns", "add", ns});
  must_run({"ip", "link", "add", bridge, "type", "bridge"});
  must_run({"ip", "addr", "add", net + ".1/24", "dev", bridge});
  must_run({"ip", "link", "set", bridge, "up"});
  must_run({"ip", "link", "add", host_end, "type", "veth", "peer", "name", ns_end});
  must_run({"ip", "link", "set", host_end, "master", bridge, "up"});
  must_run({"ip", "link", "set", ns_end, "netns", ns});
  must_run({"ip", "-n", ns, "addr", "add", net + ".2/24", "dev", ns_end});
  must_run({"ip", "-n", ns, "link", "set", ns_end, "up"});
  must_run({"ip", "-n", ns, "link", "set", "lo", "up"});
  must_run({"ip", "-n", ns, "route", "add", "default", "via", net + ".1"});
}

inline void remove_namespace_and_bridge(const std::string& ns, const std::string& bridge) {
  (void)sys::SystemRunner().run({"ip", "netns", "del", ns});
  (void)sys::SystemRunner().run({"ip", "link", "del", bridge});
}

}  // namespace labctl::testing
