#pragma once

// Writing YAML by hand, safely: the renderers emit text (readable golden files, comments
// that document each key), and these helpers make every scalar unambiguous. A JSON string
// is a valid YAML double-quoted scalar, so anything not obviously plain is emitted as one.

#include <string>

namespace labctl::cloudinit {

// `text` unquoted when YAML 1.1 would read it back as the same string (starts with a letter
// or '/', no spaces, not a boolean or null word), else a double-quoted JSON string.
std::string yaml_scalar(const std::string& text);

// A text value after "key:": a literal block ("|" and the lines indented by `indent`
// spaces) when the text allows it, else a quoted scalar. Ends with a newline.
std::string yaml_text(const std::string& text, int indent);

}  // namespace labctl::cloudinit
