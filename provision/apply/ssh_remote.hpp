#pragma once

// The stack's remote side on a VM as root: squashtm::Remote over a user's sys::Shell (an SSH
// session), each command and file write going through sudo.

#include <memory>
#include <string>

#include "provision/result.hpp"
#include "provision/sys/shell.hpp"
#include "stacks/squashtm/remote.hpp"

namespace labctl::apply {

// squashtm::Remote over SSH: commands and file writes run as root through sudo.
class SshRemote : public squashtm::Remote {
 public:
  explicit SshRemote(std::unique_ptr<sys::Shell> session)
      : m_owned(std::move(session)), m_session(m_owned.get()) {}
  // On a session someone else holds (the readiness stages'), which must outlive this.
  explicit SshRemote(sys::Shell& session) : m_session(&session) {}
  Result<squashtm::ExecResult> exec(const std::string& command) override;
  Status put_file(const std::string& path, const std::string& content, int mode) override;

 private:
  std::unique_ptr<sys::Shell> m_owned;
  sys::Shell* m_session;
};

}  // namespace labctl::apply
