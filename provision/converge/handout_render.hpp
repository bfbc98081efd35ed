#pragma once

// The hand-out sheet of `labctl handout`: per team, its VMs (addresses, how to log in over
// SSH), its Squash TM instances (URL, name, version) and Squash TM's default login. Pure:
// built from the model and state.json, rendered to Markdown, HTML or JSON; nothing here
// reads files or prints. DB passwords appear only when the caller passes them.

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "provision/model/lab.hpp"
#include "provision/sys/classroom_state.hpp"
#include "stacks/squashtm/render.hpp"

namespace labctl::converge {

// Squash TM's documented default account; every new instance starts with it.
constexpr const char* k_squash_default_user = "admin";
constexpr const char* k_squash_default_password = "admin";

enum class HandoutFormat { markdown, html, json };

struct HandoutInstance {
  std::string name, version, url, db;
  std::string db_password;  // "" unless secrets were given
};

// Where a student's machine reaches a VM: the one seam between the hand-out and the
// published endpoints of the lab's `access:` (issue 15 part 1: model::ssh_endpoint and
// model::instance_endpoint). Without them it is the VM's own address, port 22, and each
// instance's own port.
struct Reach {
  std::string ssh_host;
  int ssh_port = 22;
  std::map<int, std::string> http;  // an instance's port on the VM -> "host:port" to open
};
Reach reach_of(const model::Lab& lab, const model::Vm& vm,
               const std::vector<model::Instance>& instances);

struct HandoutVm {
  std::string key, hostname, address;  // address: Reach::ssh_host
  int ssh_port = 22;
  // network key, the VM's address on it ("-" unknown: a LAN's DHCP not seen yet)
  std::vector<std::pair<std::string, std::string>> networks;
  std::string ssh_config;  // "ssh -F ssh_config vm1", run where the hand-out's files are
  std::string ssh_plain;   // "ssh -i team3.key -o UserKnownHostsFile=known_hosts student@IP"
  std::vector<HandoutInstance> instances;
};

struct HandoutTeam {
  std::string name;
  std::vector<HandoutVm> vms;
};

struct Handout {
  std::string classroom, title, user;
  bool with_secrets = false;
  std::vector<HandoutTeam> teams;
};

struct HandoutInputs {
  std::vector<std::string> teams;  // in the lab's order; already checked against the lab
  sys::ClassroomState state;       // instances added or removed, learned addresses
  // model::Vm::name -> instance -> DB password; absent = no secrets on the sheet.
  std::optional<std::map<std::string, squashtm::Secrets>> secrets;
};

// The files a team's hand-out names, beside the sheet: the team's private key, an
// ssh_config and a known_hosts with the VMs' pinned host keys. Relative names only: nothing
// on a hand-out names a path of the instructor's host.
std::string key_file(const std::string& team);  // "team3.key"
constexpr const char* k_ssh_config_file = "ssh_config";
constexpr const char* k_known_hosts_file = "known_hosts";

Handout handout_of(const model::Lab& lab, const HandoutInputs& inputs);

std::string render_handout(const Handout& handout, HandoutFormat format);
std::string render_markdown(const Handout& handout);
std::string render_html(const Handout& handout);
std::string render_json(const Handout& handout);
std::string sheet_file(HandoutFormat format);  // "handout.md", "handout.html", "handout.json"

struct HandoutFile {
  std::string name;  // relative, no directory
  std::string content;
  unsigned mode = 0644;
};

// What a team's students need, secrets included: the team's private key (0600), ssh_config,
// known_hosts and the team's sheet. `host_keys`: VM key ("vm1") -> its pinned host key's
// public line.
struct TeamSecrets {
  std::string private_key;
  std::map<std::string, std::string> host_keys;
};
std::vector<HandoutFile> handout_files(const Handout& handout, const HandoutTeam& team,
                                       HandoutFormat format, const TeamSecrets& secrets);
std::string ssh_config(const Handout& handout, const HandoutTeam& team);
std::string known_hosts(const HandoutTeam& team,
                        const std::map<std::string, std::string>& host_keys);

// & < > " ' as character references.
std::string html_escape(const std::string& text);

}  // namespace labctl::converge
