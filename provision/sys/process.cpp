#include "provision/sys/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

namespace labctl::sys {

namespace {

struct Pipe {
  int fds[2] = {-1, -1};
  ~Pipe() { close_all(); }
  void close_all() {
    for (int& fd : fds) {
      if (fd >= 0) {
        ::close(fd);
        fd = -1;
      }
    }
  }
};

[[noreturn]] void exec_child(const std::vector<std::string>& argv, const ProcessOptions& options,
                             Pipe& in, Pipe& out, Pipe& err) {
  ::dup2(in.fds[0], 0);
  ::dup2(out.fds[1], 1);
  if (!options.passthrough_stderr) {
    ::dup2(err.fds[1], 2);
  }
  in.close_all();
  out.close_all();
  err.close_all();
  if (!options.cwd.empty() && ::chdir(options.cwd.c_str()) != 0) {
    ::_exit(127);
  }
  for (const auto& [key, value] : options.env) {
    ::setenv(key.c_str(), value.c_str(), 1);
  }
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& arg : argv) {
    args.push_back(const_cast<char*>(arg.c_str()));
  }
  args.push_back(nullptr);
  ::execvp(args[0], args.data());
  ::_exit(127);
}

// Feeds stdin and drains stdout/stderr together so that neither pipe can fill and block.
void pump(const std::string& input, int in_fd, int out_fd, int err_fd, ProcessResult& result) {
  std::size_t written = 0;
  ::fcntl(in_fd, F_SETFL, ::fcntl(in_fd, F_GETFL) | O_NONBLOCK);  // never block on a full pipe
  if (input.empty()) {
    ::close(in_fd);
    in_fd = -1;
  }
  std::array<char, 65536> buffer{};
  while (out_fd >= 0 || err_fd >= 0 || in_fd >= 0) {
    std::array<pollfd, 3> fds{{{in_fd, POLLOUT, 0}, {out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}}};
    if (::poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) {
      break;
    }
    if (in_fd >= 0 && (fds[0].revents & (POLLOUT | POLLERR | POLLHUP)) != 0) {
      ssize_t n = ::write(in_fd, input.data() + written, input.size() - written);
      written += n > 0 ? static_cast<std::size_t>(n) : 0;
      if ((n < 0 && errno != EAGAIN) || written == input.size()) {
        ::close(in_fd);
        in_fd = -1;
      }
    }
    for (auto [index, target, fd] :
         {std::tuple{1, &result.out, &out_fd}, std::tuple{2, &result.err, &err_fd}}) {
      if (*fd >= 0 && (fds[index].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
        ssize_t n = ::read(*fd, buffer.data(), buffer.size());
        if (n <= 0) {
          ::close(*fd);
          *fd = -1;
        } else {
          target->append(buffer.data(), static_cast<std::size_t>(n));
        }
      }
    }
  }
}

}  // namespace

Result<ProcessResult> SystemRunner::run(const std::vector<std::string>& argv,
                                        const ProcessOptions& options) {
  if (argv.empty()) {
    return Error::failure("cannot run an empty command");
  }
  if (!on_path(argv[0])) {
    return Error::failure(fmt::format("{}: program not found", argv[0]));
  }
  Pipe in, out, err;
  if (::pipe2(in.fds, O_CLOEXEC) != 0 || ::pipe2(out.fds, O_CLOEXEC) != 0 ||
      ::pipe2(err.fds, O_CLOEXEC) != 0) {
    return Error::failure(fmt::format("pipe: {}", std::strerror(errno)));
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    return Error::failure(fmt::format("fork: {}", std::strerror(errno)));
  }
  if (pid == 0) {
    exec_child(argv, options, in, out, err);
  }
  ::close(in.fds[0]);
  in.fds[0] = -1;
  ::close(out.fds[1]);
  out.fds[1] = -1;
  ::close(err.fds[1]);
  err.fds[1] = -1;
  ProcessResult result;
  pump(options.input, in.fds[1], out.fds[0], err.fds[0], result);
  in.fds[1] = out.fds[0] = err.fds[0] = -1;  // closed by pump
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

Result<std::string> run_checked(ProcessRunner& runner, const std::vector<std::string>& argv,
                                const ProcessOptions& options) {
  auto result = runner.run(argv, options);
  if (!result) {
    return result.error();
  }
  if (result->exit_code != 0) {
    std::string err = result->err;
    while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) {
      err.pop_back();
    }
    const auto cut = err.rfind('\n');
    const std::string last = cut == std::string::npos ? err : err.substr(cut + 1);
    return Error::failure(fmt::format("{} exited with {}: {}", argv[0], result->exit_code, last));
  }
  return std::move(result->out);
}

bool on_path(const std::string& program) {
  if (program.find('/') != std::string::npos) {
    return ::access(program.c_str(), X_OK) == 0;
  }
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    const std::size_t end = std::min(dirs.find(':', start), dirs.size());
    const std::filesystem::path candidate =
        std::filesystem::path(dirs.substr(start, end - start)) / program;
    if (::access(candidate.c_str(), X_OK) == 0) {
      return true;
    }
    start = end + 1;
  }
  return false;
}

}  // namespace labctl::sys
