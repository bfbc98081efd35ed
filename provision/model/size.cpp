#include "provision/model/size.hpp"

#include <array>
#include <charconv>
#include <utility>

#include <fmt/format.h>

namespace labctl::model {

namespace {

constexpr Bytes k_kib = 1024ULL;
constexpr Bytes k_tib = 1024ULL * k_gib;

Bytes unit_factor(std::string_view unit) {
  static const std::array<std::pair<std::string_view, Bytes>, 10> units{{
      {"", 1},
      {"B", 1},
      {"K", k_kib},
      {"KiB", k_kib},
      {"M", k_mib},
      {"MiB", k_mib},
      {"G", k_gib},
      {"GiB", k_gib},
      {"T", k_tib},
      {"TiB", k_tib},
  }};
  for (const auto& [name, factor] : units) {
    if (name == unit) {
      return factor;
    }
  }
  return 0;
}

}  // namespace

Result<Bytes> parse_size(std::string_view text) {
  const Error bad = Error::lab(fmt::format("invalid size '{}' (use e.g. 2GiB, 512MiB)", text));
  Bytes number = 0;
  const char* end = text.data() + text.size();
  const auto [rest, ec] = std::from_chars(text.data(), end, number);
  if (rest == text.data() || (ec != std::errc() && ec != std::errc::result_out_of_range)) {
    return bad;
  }
  std::string_view unit(rest, static_cast<std::size_t>(end - rest));
  if (!unit.empty() && unit.front() == ' ') {
    unit.remove_prefix(1);  // "2 GiB" reads naturally; allow one space
  }
  const Bytes factor = unit_factor(unit);
  if (factor == 0) {
    return bad;
  }
  if (ec == std::errc::result_out_of_range || number > ~Bytes{0} / factor) {
    return Error::lab(fmt::format("invalid size '{}' (too large)", text));
  }
  if (number == 0) {
    return Error::lab(fmt::format("invalid size '{}' (must be more than zero)", text));
  }
  return number * factor;
}

std::string format_size(Bytes bytes) {
  static const std::array<std::pair<const char*, Bytes>, 4> units{{
      {"TiB", k_tib},
      {"GiB", k_gib},
      {"MiB", k_mib},
      {"KiB", k_kib},
  }};
  for (const auto& [name, factor] : units) {
    if (bytes != 0 && bytes % factor == 0) {
      return fmt::format("{}{}", bytes / factor, name);
    }
  }
  return fmt::format("{}", bytes);
}

}  // namespace labctl::model
