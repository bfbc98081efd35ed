#include "stacks/squashtm/remote.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace labctl::squashtm {

namespace fs = std::filesystem;

namespace {

bool is_inside(const fs::path& root, const fs::path& path) {
  const fs::path rel = path.lexically_normal().lexically_relative(root.lexically_normal());
  return !rel.empty() && *rel.begin() != "..";
}

std::string last_line(const std::string& text) {
  std::string trimmed = text;
  while (!trimmed.empty() && (trimmed.back() == '\n' || trimmed.back() == '\r')) {
    trimmed.pop_back();
  }
  const std::size_t nl = trimmed.rfind('\n');
  return nl == std::string::npos ? trimmed : trimmed.substr(nl + 1);
}

}  // namespace

LocalRemote::LocalRemote(sys::ProcessRunner& runner, fs::path root)
    : m_runner(runner), m_root(std::move(root)) {}

Result<ExecResult> LocalRemote::exec(const std::string& command) {
  auto result = m_runner.run({"sh", "-c", command});
  if (!result) {
    return result.error();
  }
  return ExecResult{result->exit_code, std::move(result->out), std::move(result->err)};
}

Status LocalRemote::put_file(const std::string& path, const std::string& content, int mode) {
  if (!is_inside(m_root, path)) {
    return Error::failure(fmt::format("{}: outside the local root {}", path, m_root.string()));
  }
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  const std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());
  // Created with its final mode: a secret is never readable by others, even for a moment.
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    return Error::failure(fmt::format("cannot create {}: {}", tmp, std::strerror(errno)));
  }
  ::fchmod(fd, static_cast<mode_t>(mode));  // the umask may have removed bits
  const bool written =
      ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size());
  ::close(fd);
  fs::rename(tmp, path, ec);
  if (!written || ec) {
    return Error::failure(fmt::format("cannot write {}", path));
  }
  return {};
}

Result<std::string> exec_checked(Remote& remote, const std::string& command,
                                 const std::string& what) {
  auto result = remote.exec(command);
  if (!result) {
    return result.error();
  }
  if (result->exit_code != 0) {
    return Error::failure(
        fmt::format("{} failed (exit {}): {}", what, result->exit_code, last_line(result->err)));
  }
  return std::move(result->out);
}

}  // namespace labctl::squashtm
