#pragma once

// What this machine says about its ports, for the checks of students' access
// (plan/access_checks.hpp checks them): its IPv4 addresses, its listening TCP sockets, and the port
// ranges other classrooms recorded in their state directories.

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "provision/result.hpp"

namespace labctl::sys {

// Another classroom's range, as its state directory records it.
struct ClassroomRange {
  std::string classroom;
  int first = 0;
  int last = 0;
  std::string recorded_in;  // the state file
  std::string unreadable;   // why that file could not be read: its range is unknown
};

struct ListeningSocket {
  std::string address;  // "0.0.0.0" for every address
  int port = 0;
};

struct HostPorts {
  std::vector<std::string> addresses;  // the host's IPv4 addresses
  std::vector<ListeningSocket> listening;
  std::vector<ClassroomRange> ranges;  // other classrooms' (never this one's)
};

// Listening sockets from the text of /proc/net/tcp (IPv4; addresses little-endian hex).
std::vector<ListeningSocket> parse_proc_net_tcp(std::string_view text);
// Listening sockets from /proc/net/tcp6 that accept IPv4 too (:: and ::ffff:a.b.c.d).
std::vector<ListeningSocket> parse_proc_net_tcp6(std::string_view text);

// Every classroom's recorded range under `root` (ClassroomState::access), but `classroom`'s;
// a state file that cannot be read gives an entry with `unreadable` set (its range unknown).
std::vector<ClassroomRange> recorded_ranges(const std::filesystem::path& root,
                                            const std::string& classroom);

// This machine's facts; `root` is the state root.
Result<HostPorts> read_host_ports(const std::filesystem::path& root, const std::string& classroom);

}  // namespace labctl::sys
