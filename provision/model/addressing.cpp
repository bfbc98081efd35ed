#include "provision/model/addressing.hpp"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "provision/model/names.hpp"

namespace labctl::model {

Subnet default_pool(std::string_view classroom) {
  const std::uint32_t x = 64 + fnv1a32(classroom) % 128;
  return Subnet{(10U << 24) | (x << 16), 16};
}

namespace {
// Reads a decimal number in [0, max] at `pos`, advancing it.
std::optional<std::uint32_t> read_number(std::string_view text, std::size_t& pos,
                                         std::uint32_t max) {
  std::uint32_t value = 0;
  const char* begin = text.data() + pos;
  const auto [end, ec] = std::from_chars(begin, text.data() + text.size(), value);
  if (ec != std::errc() || end == begin || end - begin > 3 || value > max) {
    return std::nullopt;
  }
  pos += static_cast<std::size_t>(end - begin);
  return value;
}
}  // namespace

std::optional<Subnet> parse_cidr(std::string_view text) {
  std::uint32_t address = 0;
  std::size_t pos = 0;
  for (int octet = 0; octet < 4; ++octet) {
    const auto value = read_number(text, pos, 255);
    const char separator = octet < 3 ? '.' : '/';
    if (!value || pos >= text.size() || text[pos] != separator) {
      return std::nullopt;
    }
    address = (address << 8) | *value;
    ++pos;
  }
  const auto prefix = read_number(text, pos, 32);
  if (!prefix || pos != text.size()) {
    return std::nullopt;
  }
  const std::uint32_t mask = *prefix == 0 ? 0U : ~0U << (32 - *prefix);
  if ((address & ~mask) != 0) {
    return std::nullopt;
  }
  return Subnet{address, static_cast<int>(*prefix)};
}

std::optional<Subnet> covering_prefix(const std::vector<Subnet>& subnets) {
  if (subnets.empty()) {
    return std::nullopt;
  }
  int prefix = 32;
  for (const Subnet& subnet : subnets) {
    prefix = std::min(prefix, subnet.prefix);
  }
  const std::uint32_t first = subnets.front().network;
  for (const Subnet& subnet : subnets) {
    while (prefix > 0 && !Subnet{first, prefix}.overlaps(subnet)) {
      --prefix;
    }
  }
  const std::uint32_t mask = prefix == 0 ? 0U : ~0U << (32 - prefix);
  return Subnet{first & mask, prefix};
}

std::optional<Subnet> nat_prefix(const Lab& lab) {
  std::vector<Subnet> nats;
  bool in_pool = true;
  for (const Team& team : lab.teams) {
    for (const Network& net : team.networks) {
      if (net.kind == NetworkKind::nat && net.subnet) {
        nats.push_back(*net.subnet);
        in_pool = in_pool && lab.subnet_pool.prefix <= net.subnet->prefix &&
                  lab.subnet_pool.overlaps(*net.subnet);
      }
    }
  }
  if (nats.empty()) {
    return std::nullopt;
  }
  return in_pool ? lab.subnet_pool : covering_prefix(nats);
}

std::string mac_address(std::string_view classroom, int team, int vm, int nic) {
  const std::uint32_t hash = fnv1a32(classroom) & 0xffffU;
  return fmt::format("02:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", hash >> 8, hash & 0xffU, team & 0xff,
                     vm & 0xff, nic & 0xff);
}

}  // namespace labctl::model
