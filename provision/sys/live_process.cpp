#include "provision/sys/live_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <thread>
#include <tuple>

#include <fmt/format.h>

#include "provision/sys/process.hpp"

namespace labctl::sys {

namespace {

using Clock = std::chrono::steady_clock;

void close_fd(int& fd) {
  if (fd >= 0) {
    ::close(fd);
    fd = -1;
  }
}

class PosixLiveProcess : public LiveProcess {
 public:
  PosixLiveProcess(pid_t pid, int in, int out, int err)
      : m_pid(pid), m_in(in), m_out(out), m_err(err) {}
  PosixLiveProcess(const PosixLiveProcess&) = delete;
  PosixLiveProcess& operator=(const PosixLiveProcess&) = delete;

  ~PosixLiveProcess() override {
    close_fd(m_in);
    const auto give_up = Clock::now() + std::chrono::seconds(2);
    while (m_pid > 0 && !reaped() && Clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    kill();
    close_fd(m_out);
    close_fd(m_err);
  }

  Status write(std::string_view text) override {
    while (!text.empty()) {
      const ssize_t n = ::write(m_in, text.data(), text.size());
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        return Error::failure(fmt::format("writing to the child: {}", std::strerror(errno)));
      }
      text.remove_prefix(static_cast<std::size_t>(n));
    }
    return {};
  }

  bool read(std::string& out, std::string& err, Deadline deadline) override {
    if (m_out < 0 && m_err < 0) {
      return false;
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    std::array<pollfd, 2> fds{{{m_out, POLLIN, 0}, {m_err, POLLIN, 0}}};
    if (::poll(fds.data(), fds.size(), static_cast<int>(std::max<long>(0, left.count()))) <= 0) {
      return true;  // nothing yet (or EINTR): the caller looks at its deadline
    }
    std::array<char, 65536> buffer{};
    for (auto [index, target, fd] : {std::tuple{0, &out, &m_out}, std::tuple{1, &err, &m_err}}) {
      if (*fd >= 0 && (fds[index].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
        const ssize_t n = ::read(*fd, buffer.data(), buffer.size());
        if (n > 0) {
          target->append(buffer.data(), static_cast<std::size_t>(n));
        } else if (n == 0 || errno != EINTR) {
          close_fd(*fd);
        }
      }
    }
    return m_out >= 0 || m_err >= 0;
  }

  void kill() override {
    if (m_pid > 0 && !reaped()) {
      ::kill(m_pid, SIGKILL);
      while (::waitpid(m_pid, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
    m_pid = -1;
    close_fd(m_in);
  }

 private:
  bool reaped() {
    if (::waitpid(m_pid, nullptr, WNOHANG) == m_pid) {
      m_pid = -1;
      return true;
    }
    return m_pid < 0;
  }

  pid_t m_pid;
  int m_in;
  int m_out;
  int m_err;
};

}  // namespace

Result<std::unique_ptr<LiveProcess>> start_live_process(const std::vector<std::string>& argv) {
  if (argv.empty() || !on_path(argv[0])) {
    return Error::failure(fmt::format("{}: program not found", argv.empty() ? "" : argv[0]));
  }
  std::array<int, 2> in{-1, -1}, out{-1, -1}, err{-1, -1};
  if (::pipe2(in.data(), O_CLOEXEC) != 0 || ::pipe2(out.data(), O_CLOEXEC) != 0 ||
      ::pipe2(err.data(), O_CLOEXEC) != 0) {
    for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1]}) {
      close_fd(fd);
    }
    return Error::failure(fmt::format("pipe: {}", std::strerror(errno)));
  }
  std::vector<char*> args;
  for (const std::string& arg : argv) {
    args.push_back(const_cast<char*>(arg.c_str()));
  }
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  for (int fd : {in[0], out[1], err[1]}) {
    close_fd(fd);
  }
  if (pid < 0) {
    for (int fd : {in[1], out[0], err[0]}) {
      close_fd(fd);
    }
    return Error::failure(fmt::format("fork: {}", std::strerror(errno)));
  }
  ::signal(SIGPIPE, SIG_IGN);  // a child that died must be an error from write(), not a signal
  return std::unique_ptr<LiveProcess>(
      std::make_unique<PosixLiveProcess>(pid, in[1], out[0], err[0]));
}

}  // namespace labctl::sys
