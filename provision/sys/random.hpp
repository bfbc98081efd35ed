#pragma once

// Random identifiers: a classroom's identity, a PowerShell session's nonce.

#include <string>

namespace labctl::sys {

// 128 bits from std::random_device, as 32 lower-case hex digits.
std::string random_hex128();

}  // namespace labctl::sys
