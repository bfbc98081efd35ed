#include "cloud-init/yaml_emit.hpp"

#include <algorithm>

namespace labctl::cloudinit {

namespace {

// yaml-cpp writes a literal block's characters as they are, with the default (clip) chomping
// and no indentation indicator. So the block reads back as the text only when the text ends
// with exactly one newline (clip adds it back), does not start with a space or an empty line
// (they would set the indentation) and holds printable ASCII only (a block has no escapes).
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

void emit_quoted(YAML::Emitter& out, const std::string& text) {
  out << YAML::DoubleQuoted << text;
}

void emit_text(YAML::Emitter& out, const std::string& text) {
  if (literal_block_ok(text)) {
    out << YAML::Literal << text.substr(0, text.size() - 1);  // clip chomping adds the '\n'
  } else {
    out << YAML::DoubleQuoted << text;
  }
}

void emit_comment(YAML::Emitter& out, const std::string& text) {
  out << YAML::Newline << YAML::Comment(text);
}

}  // namespace labctl::cloudinit
