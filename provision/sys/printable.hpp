#pragma once

// Text that came from input (a lab file, a host's error, a guest's log) must not drive the
// terminal it is printed on: an ESC sequence, a CR or a newline in a name could recolour the
// screen or forge an "ok" line. printable() is applied where such text is printed.

#include <string>
#include <string_view>

namespace labctl::sys {

// `text` with every non-printable character escaped: C0 controls and DEL as \n, \r, \t or
// \xNN (\x1b for ESC), C1 controls and Unicode line, paragraph and bidi controls as \uNNNN,
// bytes that are not UTF-8 as \xNN. Printable text, UTF-8 included, is kept as it is.
std::string printable(std::string_view text);

// A message of labctl's own, which may hold lines of input: as printable(), but a newline
// followed by a space is kept. labctl indents every line after a message's first (a list of
// failures, a serial tail), so those lines stay lines; a newline from input that would start
// a line of its own at the left margin (a forged "ok" line) is escaped.
std::string printable_message(std::string_view text);

}  // namespace labctl::sys
