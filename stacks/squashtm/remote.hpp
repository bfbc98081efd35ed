#pragma once

// The seam between stack operations and a VM: sys::Shell, run a shell command, write a file.
// An SSH session (commands) with SFTP (files) implements it for real VMs; LocalRemote runs on
// this host for tests and dry runs.

#include <filesystem>
#include <string>

#include "provision/result.hpp"
#include "provision/sys/process.hpp"
#include "provision/sys/shell.hpp"

namespace labctl::squashtm {

using ExecResult = sys::ProcessResult;
using Remote = sys::Shell;

// Commands through `sh -c` on this host; files only inside `root` (anything else is refused,
// so a test cannot write to /opt by mistake).
class LocalRemote : public Remote {
 public:
  LocalRemote(sys::ProcessRunner& runner, std::filesystem::path root);
  Result<ExecResult> exec(const std::string& command) override;
  Status put_file(const std::string& path, const std::string& content, int mode) override;

 private:
  sys::ProcessRunner& m_runner;
  std::filesystem::path m_root;
};

// exec() that turns a non-zero exit into an Error carrying what failed and stderr's last line.
Result<std::string> exec_checked(Remote& remote, const std::string& command,
                                 const std::string& what);

}  // namespace labctl::squashtm
