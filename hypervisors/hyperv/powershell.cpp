#include "hypervisors/hyperv/powershell.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>

#include <fmt/format.h>

#include "provision/model/addressing.hpp"

namespace labctl::hv::hyperv {

namespace {

bool is_lower_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

// U+2018..U+201B in UTF-8: E2 80 98..9B.
bool typographic_quote_at(std::string_view s, std::size_t i) {
  return i + 2 < s.size() && static_cast<unsigned char>(s[i]) == 0xE2 &&
         static_cast<unsigned char>(s[i + 1]) == 0x80 &&
         static_cast<unsigned char>(s[i + 2]) >= 0x98 &&
         static_cast<unsigned char>(s[i + 2]) <= 0x9B;
}

}  // namespace

Result<std::string> ps_quote(std::string_view value) {
  std::string out = "'";
  for (std::size_t i = 0; i < value.size(); ++i) {
    const auto c = static_cast<unsigned char>(value[i]);
    if (c < 0x20 || c == 0x7F) {
      return Error::failure(fmt::format(
          "cannot put a value with a control character (0x{:02x}) into a PowerShell script", c));
    }
    if (c == '\'') {
      out += "''";
    } else if (typographic_quote_at(value, i)) {
      out.append(value.substr(i, 3)).append(value.substr(i, 3));
      i += 2;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "'";
}

Status check_name(std::string_view what, std::string_view name) {
  bool ok = !name.empty() && name.size() <= 63 && name[0] >= 'a' && name[0] <= 'z';
  for (char c : name) {
    ok = ok && (is_lower_alnum(c) || c == '-');
  }
  if (!ok) {
    return Error::failure(fmt::format(
        "{} name '{}' is not of the form [a-z][a-z0-9-]* (at most 63 characters)", what, name));
  }
  return {};
}

Status check_file_name(std::string_view what, std::string_view name) {
  bool ok = !name.empty() && name.size() <= 128 && is_lower_alnum(name[0]) &&
            name.find("..") == std::string_view::npos;
  for (char c : name) {
    ok = ok && (is_lower_alnum(c) || c == '-' || c == '_' || c == '.');
  }
  if (!ok) {
    return Error::failure(fmt::format(
        "{} file name '{}' is not of the form [a-z0-9][a-z0-9._-]* without '..'", what, name));
  }
  return {};
}

Status check_host_name(std::string_view what, std::string_view name) {
  if (name.empty() || name.find_first_of("*?[]") != std::string_view::npos) {
    return Error::failure(
        fmt::format("{} '{}' must be non-empty and contain none of * ? [ ]", what, name));
  }
  return {};
}

Status check_ipv4(std::string_view what, std::string_view address) {
  const std::string host = std::string(address) + "/32";
  const auto parsed = model::parse_cidr(host);
  if (!parsed || parsed->cidr() != host) {
    return Error::failure(fmt::format("{} '{}' is not an IPv4 address", what, address));
  }
  return {};
}

Result<std::string> mac_for_hyperv(std::string_view mac) {
  std::string out;
  bool ok = mac.size() == 17;
  for (std::size_t i = 0; ok && i < mac.size(); ++i) {
    const char c = mac[i];
    if (i % 3 == 2) {
      ok = c == ':';
    } else if (std::isxdigit(static_cast<unsigned char>(c)) != 0) {
      out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    } else {
      ok = false;
    }
  }
  if (!ok) {
    return Error::failure(
        fmt::format("MAC address '{}' is not of the form 02:c4:1e:03:01:00", mac));
  }
  return out;
}

namespace {

// Decodes one UTF-8 sequence at s[i]; returns the code point and advances i, or -1.
long decode_utf8(std::string_view s, std::size_t& i) {
  const auto lead = static_cast<unsigned char>(s[i]);
  const int extra = lead < 0x80           ? 0
                    : (lead >> 5) == 0x6  ? 1
                    : (lead >> 4) == 0xE  ? 2
                    : (lead >> 3) == 0x1E ? 3
                                          : -1;
  if (extra < 0 || i + static_cast<std::size_t>(extra) >= s.size()) {
    return -1;
  }
  long cp = extra == 0 ? lead : lead & (0x3F >> extra);
  for (int k = 1; k <= extra; ++k) {
    const auto c = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
    if ((c & 0xC0) != 0x80) {
      return -1;
    }
    cp = (cp << 6) | (c & 0x3F);
  }
  constexpr std::array<long, 4> k_min = {0, 0x80, 0x800, 0x10000};  // shortest form only
  if (cp < k_min[static_cast<std::size_t>(extra)] || cp > 0x10FFFF ||
      (cp >= 0xD800 && cp <= 0xDFFF)) {
    return -1;
  }
  i += static_cast<std::size_t>(extra) + 1;
  return cp;
}

void put_unit(std::string& out, unsigned unit) {
  out += static_cast<char>(unit & 0xFF);
  out += static_cast<char>((unit >> 8) & 0xFF);
}

}  // namespace

Result<std::string> utf16le(std::string_view utf8) {
  std::string out;
  out.reserve(utf8.size() * 2);
  std::size_t i = 0;
  while (i < utf8.size()) {
    const std::size_t at = i;
    const long cp = decode_utf8(utf8, i);
    if (cp < 0) {
      return Error::failure(fmt::format("script is not valid UTF-8 (byte {})", at));
    }
    if (cp < 0x10000) {
      put_unit(out, static_cast<unsigned>(cp));
    } else {
      const auto v = static_cast<unsigned>(cp - 0x10000);
      put_unit(out, 0xD800 + (v >> 10));
      put_unit(out, 0xDC00 + (v & 0x3FF));
    }
  }
  return out;
}

std::string base64(std::string_view bytes) {
  static constexpr std::string_view k_alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::size_t n = std::min<std::size_t>(3, bytes.size() - i);
    std::uint32_t group = 0;
    for (std::size_t k = 0; k < 3; ++k) {
      group = (group << 8) | (k < n ? static_cast<unsigned char>(bytes[i + k]) : 0U);
    }
    for (std::size_t k = 0; k < 4; ++k) {
      out += k <= n ? k_alphabet[(group >> (18 - 6 * k)) & 0x3F] : '=';
    }
  }
  return out;
}

Result<std::string> encode_command(std::string_view script) {
  auto wide = utf16le(script);
  if (!wide) {
    return wide.error();
  }
  return base64(*wide);
}

}  // namespace labctl::hv::hyperv
