#pragma once

// The time of day in UTC, as labctl writes it in records and messages.

#include <string>

namespace labctl::sys {

// Now, "2026-12-06T01:02:03Z" (ISO 8601, seconds, UTC).
std::string utc_now();

}  // namespace labctl::sys
