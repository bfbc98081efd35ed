#pragma once

// Per-instance database passwords. Kept apart from the renderer so that it stays pure.

#include <cstddef>
#include <string>

#include "provision/result.hpp"

namespace labctl::squashtm {

// Random [A-Za-z0-9] password from /dev/urandom (no '$' or quotes: env files and compose
// never need escaping).
Result<std::string> generate_password(std::size_t length = 24);

}  // namespace labctl::squashtm
