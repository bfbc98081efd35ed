#include "cloud-init/yaml_text.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include <nlohmann/json.hpp>

namespace labctl::cloudinit {

namespace {

// YAML 1.1 (PyYAML, what cloud-init uses) resolves these words to booleans or null.
bool special_word(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  constexpr std::array k_words{"y", "n", "yes", "no", "true", "false", "on", "off", "null"};
  return std::find(k_words.begin(), k_words.end(), text) != k_words.end();
}

bool plain_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-' ||
         c == '/' || c == '@' || c == '+' || c == ':';
}

std::string quoted(const std::string& text) {
  return nlohmann::json(text).dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
}

// Literal blocks keep the text byte for byte only when it ends with exactly one newline,
// does not start with a space or an empty line, and holds printable ASCII only.
bool literal_block_ok(const std::string& text) {
  if (text.size() < 2 || text.back() != '\n' || text[text.size() - 2] == '\n') {
    return false;
  }
  if (text.front() == ' ' || text.front() == '\n') {
    return false;
  }
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return c == '\n' || (c >= ' ' && c <= '~'); });
}

}  // namespace

std::string yaml_scalar(const std::string& text) {
  const bool plain =
      !text.empty() &&
      (std::isalpha(static_cast<unsigned char>(text.front())) != 0 || text.front() == '/') &&
      text.back() != ':' && std::all_of(text.begin(), text.end(), plain_char) &&
      !special_word(text);
  return plain ? text : quoted(text);
}

std::string yaml_text(const std::string& text, int indent) {
  if (!literal_block_ok(text)) {
    return quoted(text) + "\n";
  }
  const std::string pad(static_cast<std::size_t>(indent), ' ');
  std::string out = "|\n";
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    const std::string line = text.substr(start, end - start);
    out += line.empty() ? "\n" : pad + line + "\n";
    start = end + 1;
  }
  return out;
}

}  // namespace labctl::cloudinit
