#pragma once

// Students' access: the host ports that publish each team's instances and SSH (`access:` in
// the lab file). Pure and deterministic: the same lab gives the same endpoints on every `up`,
// so a student's bookmark survives a re-run, a `reset` and a `squash add` on another VM.
//
// Port of an endpoint: first + team_index * team_block + slot * vm_radix + vm_index, where
// slot 0 is SSH and slot k (1-9) the instance on VM port 8080 + k; vm_radix is 10 for teams
// of at most 9 VMs (100 for more) and team_block is 10 * vm_radix. With `ports: 20000-29999`,
// team3 vm1's SSH is 20301 and its instance on 8081 is 20311.

#include <optional>
#include <string>
#include <vector>

#include "provision/model/lab.hpp"

namespace labctl::model {

constexpr int k_ssh_port = 22;
constexpr int k_first_published_instance_port = 8081;
constexpr int k_last_published_instance_port = 8089;
constexpr int k_endpoint_slots = 10;  // SSH + instances on 8081..8089

enum class EndpointKind { ssh, http };

// One published host port, as students see it and as the host forwards it.
struct Endpoint {
  std::string team;
  std::string vm;    // the VM's key: "vm1"
  std::string name;  // the instance's name, or "ssh"
  EndpointKind kind = EndpointKind::http;
  std::string host;       // published host (access.host): what students type
  std::string listen;     // host address it listens on (access.listen)
  int port = 0;           // published host port
  std::string target_ip;  // the VM's address on its first nat network
  int target_port = 0;    // on the VM: 22 or the instance's port

  // As students use it: "http://lab-server.school.lan:20311/squash" or
  // "ssh -p 20301 student@lab-server.school.lan".
  std::string student_form(const std::string& user) const;
  // The address inside the classroom network: "http://10.146.4.11:8081/squash" or
  // "10.146.4.11:22".
  std::string private_form() const;
  bool operator==(const Endpoint&) const = default;
};

// The published port of slot `slot` of VM `vm_index` in team `team_index`, or 0 when the
// instance port has no slot (outside 8081..8089). `max_vm_index` is the lab's largest team.
int endpoint_port(const AccessSettings& access, int max_vm_index, int team_index, int vm_index,
                  int slot);
// The slot of an instance published on the VM's port `port`: 1-9, 0 when none.
int instance_slot(int port);
// The highest port any endpoint of the lab may take (its last team's block end).
int last_endpoint_port(const Lab& lab);

// The endpoint that publishes the VM's SSH (with `access: {ssh: true}`), or the instance
// (also one that `squash add` made); nullopt when there is none.
std::optional<Endpoint> ssh_endpoint(const Lab& lab, const Vm& vm);
std::optional<Endpoint> instance_endpoint(const Lab& lab, const Vm& vm, const Instance& instance);

// Every endpoint of the lab in team, VM, slot order; empty without `access:`. A VM without
// an address on a nat network has none (nothing on the host can forward to it).
std::vector<Endpoint> endpoints(const Lab& lab);
// The endpoints of one team.
std::vector<Endpoint> endpoints(const Lab& lab, const std::string& team);
// What the host forwards for a team: every VM's SSH (with `ssh: true`) and all its instance
// slots 8081..8089, whether an instance of the lab file uses the slot or not, so that an
// instance `squash add` makes later is reachable without touching the forwarding. A slot
// without an instance is named by its port ("8085"); nothing listens behind it until one is
// added. `endpoints()` is what students are shown; this is what the host publishes.
std::vector<Endpoint> forwarded_endpoints(const Lab& lab, const std::string& team);

// 12 hex digits over the team's endpoints (ports, targets, listen address): what the host's
// forwarding carries, so that a changed one is replaced.
std::string endpoints_hash(const std::vector<Endpoint>& endpoints);

std::string to_string(EndpointKind kind);

}  // namespace labctl::model
