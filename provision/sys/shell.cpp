#include "provision/sys/shell.hpp"

namespace labctl::sys {

std::string shell_quote(const std::string& value) {
  std::string quoted = "'";
  for (char c : value) {
    quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  }
  return quoted + "'";
}

}  // namespace labctl::sys
