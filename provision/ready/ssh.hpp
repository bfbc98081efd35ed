#pragma once

// SSH to a classroom VM through libssh: the host key is checked against the key labctl
// generated for the VM (pinned, no trust on first use); the user logs in with the
// classroom's key. Exec and SFTP.

#include <memory>
#include <string>

#include "provision/result.hpp"
#include "provision/sys/shell.hpp"

namespace labctl::ready {

struct SshTarget {
  std::string host;
  int port = 22;
  std::string user;
  std::string private_key_file;  // the classroom's key
  std::string host_public_key;   // pinned: "ssh-ed25519 AAAA... [comment]"
  int timeout_seconds = 10;      // connect and each operation
};

using ExecResult = sys::ProcessResult;

class SshSession : public sys::Shell {
 public:
  static Result<std::unique_ptr<SshSession>> connect(const SshTarget& target);
  ~SshSession() override;
  SshSession(const SshSession&) = delete;
  SshSession& operator=(const SshSession&) = delete;

  Result<ExecResult> exec(const std::string& command) override;
  // Writes `content` to `path` over SFTP (temp file + rename) with `mode`.
  Status put_file(const std::string& path, const std::string& content, int mode) override;

 private:
  struct Impl;
  explicit SshSession(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

}  // namespace labctl::ready
