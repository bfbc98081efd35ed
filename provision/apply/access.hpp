#pragma once

// What a running VM is told and asked about access, over the SSH session labctl already
// has (squashtm::Remote): the admin user's authorized keys, rewritten whole on every `up`
// so that VMs made before per-team keys accept exactly the classroom key and their team's
// key too; and the addresses the guest really has, for NICs on a LAN's DHCP (kind bridge
// without a subnet), which labctl cannot know before the VM boots.

#include <map>
#include <string>

#include "provision/model/lab.hpp"
#include "provision/result.hpp"
#include "stacks/squashtm/remote.hpp"

namespace labctl::apply {

// Some NIC is addressed by the LAN's DHCP (model::Nic::dhcp): its address is learned.
bool has_dhcp_nic(const model::Vm& vm);

// The guest's name of NIC `index` (network-config renames each NIC, matched by MAC).
std::string guest_interface(std::size_t index);

// authorized_keys of the admin user: the classroom key, then the team's.
std::string authorized_keys(const std::string& classroom_public, const std::string& team_public);
// Writes them (0600, owned by the user) unless the file holds exactly them already.
Status authorize_keys(squashtm::Remote& remote, const std::string& user,
                      const std::string& authorized);

// `ip -4 -o addr show` -> interface -> its first IPv4 address (no prefix length).
std::map<std::string, std::string> parse_ip_addresses(const std::string& ip_output);
// Network key -> address of each DHCP NIC of the VM, as the guest reports it now (`up`
// records it: sys::ClassroomState::record_addresses).
Result<std::map<std::string, std::string>> learn_dhcp_addresses(squashtm::Remote& remote,
                                                                const model::Vm& vm);

}  // namespace labctl::apply
