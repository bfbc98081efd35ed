#include "provision/sys/printable.hpp"

#include <cstdint>

#include <fmt/format.h>

namespace labctl::sys {

namespace {

// Length of the valid UTF-8 sequence at the start of `text` and its code point; 0 when the
// bytes there are not UTF-8 (overlong forms, surrogates and truncated sequences included).
std::size_t utf8_sequence(std::string_view text, char32_t& code) {
  const auto lead = static_cast<unsigned char>(text[0]);
  const std::size_t length = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 0;
  if (length == 0 || lead > 0xf4 || text.size() < length) {
    return 0;
  }
  code = lead & (0x7fU >> length);
  for (std::size_t i = 1; i < length; ++i) {
    const auto next = static_cast<unsigned char>(text[i]);
    if ((next & 0xc0U) != 0x80U) {
      return 0;
    }
    code = (code << 6U) | (next & 0x3fU);
  }
  static constexpr char32_t k_smallest[] = {0, 0, 0x80, 0x800, 0x10000};
  const bool valid =
      code >= k_smallest[length] && code <= 0x10ffff && (code < 0xd800 || code > 0xdfff);
  return valid ? length : 0;
}

// C1 controls, and the characters that move text around without showing: line and
// paragraph separators and the bidirectional embeddings, overrides and isolates.
bool is_invisible(char32_t code) {
  return (code >= 0x80 && code <= 0x9f) || code == 0x2028 || code == 0x2029 ||
         (code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069);
}

std::string escape_byte(unsigned char byte) {
  switch (byte) {
    case '\n':
      return "\\n";
    case '\r':
      return "\\r";
    case '\t':
      return "\\t";
    default:
      return fmt::format("\\x{:02x}", byte);
  }
}

}  // namespace

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    const auto byte = static_cast<unsigned char>(text[0]);
    char32_t code = byte;
    const std::size_t length = byte < 0x80 ? 1 : utf8_sequence(text, code);
    if (length == 0 || code < 0x20 || code == 0x7f) {
      out += escape_byte(byte);
    } else if (is_invisible(code)) {
      out += fmt::format("\\u{:04x}", static_cast<std::uint32_t>(code));
    } else {
      out.append(text.substr(0, length));
    }
    text.remove_prefix(length == 0 ? 1 : length);
  }
  return out;
}

std::string printable_message(std::string_view text) {
  std::string out;
  std::size_t start = 0;
  for (std::size_t nl = text.find('\n'); nl != std::string_view::npos;
       nl = text.find('\n', start)) {
    out += printable(text.substr(start, nl - start));
    out += nl + 1 < text.size() && text[nl + 1] == ' ' ? "\n" : "\\n";
    start = nl + 1;
  }
  return out + printable(text.substr(start));
}

}  // namespace labctl::sys
