#include "provision/sys/host_ports.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <fstream>
#include <optional>
#include <sstream>

#include <fmt/format.h>

#include "provision/sys/classroom_state.hpp"

namespace labctl::sys {

namespace {

constexpr std::string_view k_listen_state = "0A";

// "0100007F:1F90" -> {"127.0.0.1", 8080}; the address is a little-endian 32-bit word.
std::optional<ListeningSocket> ipv4_socket(const std::string& field) {
  const auto colon = field.find(':');
  if (colon != 8) {
    return std::nullopt;
  }
  const auto word = static_cast<std::uint32_t>(std::stoul(field.substr(0, colon), nullptr, 16));
  const int port = static_cast<int>(std::stoul(field.substr(colon + 1), nullptr, 16));
  return ListeningSocket{
      fmt::format("{}.{}.{}.{}", word & 0xff, (word >> 8) & 0xff, (word >> 16) & 0xff, word >> 24),
      port};
}

// Each line's local address and state, listening ones only.
std::vector<std::string> listening_fields(std::string_view text) {
  std::vector<std::string> out;
  std::istringstream in{std::string(text)};
  std::string line;
  std::getline(in, line);  // the header
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string slot;
    std::string local;
    std::string remote;
    std::string state;
    if (words >> slot >> local >> remote >> state && state == k_listen_state) {
      out.push_back(local);
    }
  }
  return out;
}

std::string read_all(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> ipv4_addresses() {
  std::vector<std::string> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) {
    return out;
  }
  for (const ifaddrs* it = list; it != nullptr; it = it->ifa_next) {
    if (it->ifa_addr != nullptr && it->ifa_addr->sa_family == AF_INET) {
      char text[INET_ADDRSTRLEN] = {};
      const auto* in = reinterpret_cast<const sockaddr_in*>(it->ifa_addr);
      if (inet_ntop(AF_INET, &in->sin_addr, text, sizeof text) != nullptr) {
        out.emplace_back(text);
      }
    }
  }
  freeifaddrs(list);
  return out;
}

}  // namespace

std::vector<ListeningSocket> parse_proc_net_tcp(std::string_view text) {
  std::vector<ListeningSocket> out;
  for (const std::string& field : listening_fields(text)) {
    if (auto socket = ipv4_socket(field)) {
      out.push_back(*socket);
    }
  }
  return out;
}

std::vector<ListeningSocket> parse_proc_net_tcp6(std::string_view text) {
  std::vector<ListeningSocket> out;
  for (const std::string& field : listening_fields(text)) {
    const auto colon = field.find(':');
    // Only the wildcard :: takes IPv4 connections (a dual-stack socket); other IPv6
    // addresses never see the IPv4 traffic labctl forwards.
    if (colon == 32 && field.substr(0, 32) == std::string(32, '0')) {
      out.push_back({"0.0.0.0", static_cast<int>(std::stoul(field.substr(33), nullptr, 16))});
    }
  }
  return out;
}

std::vector<ClassroomRange> recorded_ranges(const std::filesystem::path& root,
                                            const std::string& classroom) {
  std::vector<ClassroomRange> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(root, ec)) {
    const std::string name = entry.path().filename().string();
    const auto file = entry.path() / "state.json";
    if (name == classroom || !std::filesystem::is_regular_file(file, ec)) {
      continue;
    }
    const auto state = parse_classroom_state(read_all(file), file.string());
    if (!state) {
      out.push_back({name, 0, 0, file.string(), state.error().message});
      continue;
    }
    if (!state->access) {
      continue;
    }
    const RecordedAccess& access = *state->access;
    if (access.first > 0 && access.last > 0) {
      out.push_back({name, access.first, access.last, file.string()});
    }
  }
  return out;
}

Result<HostPorts> read_host_ports(const std::filesystem::path& root, const std::string& classroom) {
  HostPorts host;
  host.addresses = ipv4_addresses();
  host.listening = parse_proc_net_tcp(read_all("/proc/net/tcp"));
  const auto v6 = parse_proc_net_tcp6(read_all("/proc/net/tcp6"));
  host.listening.insert(host.listening.end(), v6.begin(), v6.end());
  host.ranges = recorded_ranges(root, classroom);
  return host;
}

}  // namespace labctl::sys
