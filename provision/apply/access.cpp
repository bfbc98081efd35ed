#include "provision/apply/access.hpp"

#include <algorithm>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "provision/sys/shell.hpp"

namespace labctl::apply {

bool has_dhcp_nic(const model::Vm& vm) {
  return std::any_of(vm.nics.begin(), vm.nics.end(), [](const model::Nic& n) { return n.dhcp; });
}

std::string guest_interface(std::size_t index) {
  return "eth" + std::to_string(index);
}

std::string authorized_keys(const std::string& classroom_public, const std::string& team_public) {
  return classroom_public + "\n" + team_public + "\n";
}

namespace {

// The non-empty lines of an authorized_keys text.
std::set<std::string> key_lines(const std::string& text) {
  std::set<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    if (!line.empty()) {
      lines.insert(line);
    }
  }
  return lines;
}

}  // namespace

Status authorize_keys(squashtm::Remote& remote, const std::string& user,
                      const std::string& authorized) {
  const std::string path = "/home/" + user + "/.ssh/authorized_keys";
  // Usually the seed's keys are these already: one command then, not three. cloud-init
  // writes the seed's keys in no set order (it keeps them in a Python set), so the file is
  // compared as a set of key lines.
  auto current = remote.exec("cat " + sys::shell_quote(path));
  if (!current) {
    return current.error();
  }
  if (current->exit_code == 0 && key_lines(current->out) == key_lines(authorized)) {
    return {};
  }
  if (auto st = remote.put_file(path, authorized, 0600); !st) {
    return st;
  }
  const std::string owner = sys::shell_quote(user + ":" + user);
  auto result = remote.exec(fmt::format("chown {} {} {}", owner, sys::shell_quote(path),
                                        sys::shell_quote("/home/" + user + "/.ssh")));
  if (!result) {
    return result.error();
  }
  if (result->exit_code != 0) {
    return Error::failure(fmt::format("chown {}: {}", path, result->err));
  }
  return {};
}

std::map<std::string, std::string> parse_ip_addresses(const std::string& ip_output) {
  // "3: eth1    inet 192.168.77.50/24 brd 192.168.77.255 scope global dynamic eth1\..."
  std::map<std::string, std::string> out;
  std::istringstream lines(ip_output);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string index, name, family, cidr;
    if (!(fields >> index >> name >> family >> cidr) || family != "inet") {
      continue;
    }
    out.emplace(name, cidr.substr(0, cidr.find('/')));
  }
  return out;
}

Result<std::map<std::string, std::string>> learn_dhcp_addresses(squashtm::Remote& remote,
                                                                const model::Vm& vm) {
  std::map<std::string, std::string> out;
  if (!has_dhcp_nic(vm)) {
    return out;
  }
  auto result = remote.exec("ip -4 -o addr show");
  if (!result) {
    return result.error();
  }
  if (result->exit_code != 0) {
    return Error::failure(fmt::format("{}: ip -4 -o addr show: {}", vm.name, result->err));
  }
  const auto addresses = parse_ip_addresses(result->out);
  for (std::size_t i = 0; i < vm.nics.size(); ++i) {
    const auto found = addresses.find(guest_interface(i));
    if (vm.nics[i].dhcp && found != addresses.end()) {
      out[vm.nics[i].key] = found->second;
    }
  }
  return out;
}

}  // namespace labctl::apply
