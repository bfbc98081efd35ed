#pragma once

// Deterministic addressing: a classroom's default subnet pool, CIDR parsing, MAC addresses.
// Two classrooms with different names get different pools and MAC prefixes (unless their
// name hashes collide, which the loader's tests check for the shipped labs).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "provision/model/lab.hpp"

namespace labctl::model {

// 10.X.0.0/16 with X = 64 + fnv1a32(classroom) % 128.
Subnet default_pool(std::string_view classroom);

// "10.64.0.0/16" -> Subnet; nullopt when malformed. Host bits must be zero.
std::optional<Subnet> parse_cidr(std::string_view text);

// The smallest prefix that contains every subnet given (0.0.0.0/0 at worst); nullopt for
// none. CIDR blocks nest, so it is the common leading bits of all of them.
std::optional<Subnet> covering_prefix(const std::vector<Subnet>& subnets);

// The one prefix that a host-wide NAT (Hyper-V: the classroom's single NetNat) needs for
// every nat network of the lab, whatever team and host: the classroom's pool when it holds
// them all (stable when teams are added), else the smallest prefix covering them (explicit
// subnets outside the pool). nullopt when the lab has no addressed nat network.
// Such a prefix always exists. It may also cover isolated subnets of the lab: harmless on
// Hyper-V, where an isolated network is a Private switch with no host address, so none of
// its packets ever reach the host's NAT (bridge networks have no subnet; ovs is refused).
std::optional<Subnet> nat_prefix(const Lab& lab);

// "02:HH:HH:TT:VV:NN": HH:HH the low 16 bits of fnv1a32(classroom), team and VM 1-based,
// NIC 0-based, lower-case hex.
std::string mac_address(std::string_view classroom, int team, int vm, int nic);

}  // namespace labctl::model
