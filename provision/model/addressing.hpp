#pragma once

// Deterministic addressing: a classroom's default subnet pool, CIDR parsing, MAC addresses.
// Two classrooms with different names get different pools and MAC prefixes (unless their
// name hashes collide, which the loader's tests check for the shipped labs).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "provision/model/lab.hpp"

namespace labctl::model {

// 10.X.0.0/16 with X = 64 + fnv1a32(classroom) % 128.
Subnet default_pool(std::string_view classroom);

// "10.64.0.0/16" -> Subnet; nullopt when malformed. Host bits must be zero.
std::optional<Subnet> parse_cidr(std::string_view text);

// "02:HH:HH:TT:VV:NN": HH:HH the low 16 bits of fnv1a32(classroom), team and VM 1-based,
// NIC 0-based, lower-case hex.
std::string mac_address(std::string_view classroom, int team, int vm, int nic);

}  // namespace labctl::model
