#include "provision/sys/random.hpp"

#include <cstdint>
#include <random>

#include <fmt/format.h>

namespace labctl::sys {

std::string random_hex128() {
  std::random_device random;
  std::string hex;
  for (int i = 0; i < 4; ++i) {
    hex += fmt::format("{:08x}", static_cast<std::uint32_t>(random()));
  }
  return hex;
}

}  // namespace labctl::sys
