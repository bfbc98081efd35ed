#pragma once

// The seed documents are built with yaml-cpp's emitter; these helpers make the two choices it
// would get wrong for cloud-init. cloud-init reads them with PyYAML (YAML 1.1), which resolves
// plain yes, no, 0644 or 12:30 to booleans and numbers, where yaml-cpp's automatic style leaves
// them plain: so every value that comes from the lab or the inputs is double-quoted.

#include <string>

#include <yaml-cpp/emitter.h>

namespace labctl::cloudinit {

// A value from the lab or the inputs: always a double-quoted scalar, escaped by the emitter.
void emit_quoted(YAML::Emitter& out, const std::string& text);

// A file's content or a key: a literal block when it reads back byte for byte, else quoted.
void emit_text(YAML::Emitter& out, const std::string& text);

// A comment line before the next key (what reads it, and why).
void emit_comment(YAML::Emitter& out, const std::string& text);

}  // namespace labctl::cloudinit
