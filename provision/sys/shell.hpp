#pragma once

// A shell on a machine: run a command line, write a file. The one interface for SSH to the
// VMs (ready::SshSession, through libssh), the stack's remote side (squashtm::Remote is this
// interface) and their test doubles. A command's result is the same ProcessResult as a local
// process's (sys/process.hpp). Values go into a command line through shell_quote only.

#include <string>

#include "provision/result.hpp"
#include "provision/sys/process.hpp"

namespace labctl::sys {

class Shell {
 public:
  virtual ~Shell() = default;
  // Runs a POSIX sh command line; a non-zero exit is a value, not an error.
  virtual Result<ProcessResult> exec(const std::string& command) = 0;
  // Writes `content` to the absolute `path` (parents created) with `mode`.
  virtual Status put_file(const std::string& path, const std::string& content, int mode) = 0;
};

// POSIX shell single-quoting: the one way labctl builds a remote command from values.
std::string shell_quote(const std::string& value);

}  // namespace labctl::sys
