#include "provision/apply/ssh_remote.hpp"

#include <functional>

#include <fmt/format.h>

namespace labctl::apply {

Result<squashtm::ExecResult> SshRemote::exec(const std::string& command) {
  auto result = m_session->exec("sudo -n sh -c " + sys::shell_quote(command));
  if (!result) {
    return result.error();
  }
  return squashtm::ExecResult{result->exit_code, result->out, result->err};
}

Status SshRemote::put_file(const std::string& path, const std::string& content, int mode) {
  const std::string temp = fmt::format("/tmp/labctl-put-{}", std::hash<std::string>{}(path));
  if (auto st = m_session->put_file(temp, content, 0600); !st) {
    return st;
  }
  auto result =
      exec(fmt::format("install -D -m {:04o} {} {} && rm -f {}", mode, sys::shell_quote(temp),
                       sys::shell_quote(path), sys::shell_quote(temp)));
  if (!result) {
    return result.error();
  }
  if (result->exit_code != 0) {
    return Error::failure(fmt::format("install {}: {}", path, result->err));
  }
  return {};
}

}  // namespace labctl::apply
