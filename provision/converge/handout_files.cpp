// The files of a team's hand-out beside its sheet (handout_render.hpp): pure text.

#include <fmt/format.h>

#include "provision/converge/handout_render.hpp"
#include "provision/sys/ssh_keys.hpp"

namespace labctl::converge {

std::string sheet_file(HandoutFormat format) {
  switch (format) {
    case HandoutFormat::html:
      return "handout.html";
    case HandoutFormat::json:
      return "handout.json";
    case HandoutFormat::markdown:
      break;
  }
  return "handout.md";
}

// Every path is relative: ssh resolves them in the directory it is run from.
std::string ssh_config(const Handout& handout, const HandoutTeam& team) {
  std::string out =
      fmt::format("# {} of classroom {}: run `ssh -F {} VM` in the folder holding this file.\n",
                  team.name, handout.classroom, k_ssh_config_file);
  for (const HandoutVm& vm : team.vms) {
    out += fmt::format(
        "\nHost {} {}\n  HostName {}\n  Port {}\n  User {}\n  IdentityFile {}\n"
        "  IdentitiesOnly yes\n  UserKnownHostsFile {}\n  StrictHostKeyChecking yes\n",
        vm.key, vm.hostname, vm.address, vm.ssh_port, handout.user, key_file(team.name),
        k_known_hosts_file);
  }
  return out;
}

std::string known_hosts(const HandoutTeam& team,
                        const std::map<std::string, std::string>& host_keys) {
  std::string out;
  for (const HandoutVm& vm : team.vms) {
    const auto key = host_keys.find(vm.key);
    if (key != host_keys.end() && !vm.address.empty()) {
      out += sys::known_hosts_line(vm.address, key->second, vm.ssh_port) + "\n";
    }
  }
  return out;
}

std::vector<HandoutFile> handout_files(const Handout& handout, const HandoutTeam& team,
                                       HandoutFormat format, const TeamSecrets& secrets) {
  Handout one = handout;
  one.teams = {team};
  return {{sheet_file(format), render_handout(one, format), 0644},
          {key_file(team.name), secrets.private_key, 0600},
          {k_ssh_config_file, ssh_config(handout, team), 0644},
          {k_known_hosts_file, known_hosts(team, secrets.host_keys), 0644}};
}

}  // namespace labctl::converge
