#include "provision/registry/host.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <regex>
#include <thread>

#include <fmt/format.h>

namespace labctl::registry {

namespace {

using namespace std::chrono_literals;

// What the forked children tell the parent through a close-on-exec pipe.
struct Message {
  int kind = 0;  // 0: the grandchild's pid; 1: exec failed with errno `value`
  int value = 0;
};

[[noreturn]] void exec_grandchild(const std::vector<std::string>& argv, int log_fd, int report) {
  const int null_fd = ::open("/dev/null", O_RDONLY);
  ::dup2(null_fd, 0);
  ::dup2(log_fd, 1);
  ::dup2(log_fd, 2);
  // Nothing of labctl's (libvirt sockets, lock files) stays open in the registry.
  ::close_range(3, static_cast<unsigned>(report) - 1, 0);
  ::close_range(static_cast<unsigned>(report) + 1, ~0U, 0);
  std::vector<char*> args;
  for (const std::string& arg : argv) {
    args.push_back(const_cast<char*>(arg.c_str()));
  }
  args.push_back(nullptr);
  ::execv(args[0], args.data());
  const Message failed{1, errno};
  [[maybe_unused]] auto n = ::write(report, &failed, sizeof failed);
  ::_exit(127);
}

[[noreturn]] void run_intermediate(const std::vector<std::string>& argv, int log_fd, int report) {
  ::setsid();  // a terminal's Ctrl-C or hang-up never reaches the registry
  const pid_t pid = ::fork();
  if (pid == 0) {
    exec_grandchild(argv, log_fd, report);
  }
  const Message started{pid < 0 ? 1 : 0, pid < 0 ? errno : pid};
  [[maybe_unused]] auto n = ::write(report, &started, sizeof started);
  ::_exit(pid < 0 ? 1 : 0);
}

std::string read_first_line(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// The message of a logrus line (msg="..."), else the line.
std::string message_of(const std::string& line) {
  static const std::regex msg(R"re(msg="((?:[^"\\]|\\.)*)")re");
  std::smatch m;
  return std::regex_search(line, m, msg) ? m[1].str() : line;
}

}  // namespace

Result<pid_t> spawn_detached(const std::vector<std::string>& argv,
                             const std::filesystem::path& log) {
  const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return Error::failure(fmt::format("cannot open {}: {}", log.string(), std::strerror(errno)));
  }
  int report[2] = {-1, -1};
  if (::pipe2(report, O_CLOEXEC) != 0) {
    ::close(log_fd);
    return Error::failure(fmt::format("pipe: {}", std::strerror(errno)));
  }
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(report[0]);
    run_intermediate(argv, log_fd, report[1]);
  }
  ::close(report[1]);
  ::close(log_fd);
  if (child < 0) {
    ::close(report[0]);
    return Error::failure(fmt::format("fork: {}", std::strerror(errno)));
  }
  ::waitpid(child, nullptr, 0);
  pid_t pid = -1;
  int exec_errno = 0;
  Message message;
  while (::read(report[0], &message, sizeof message) == sizeof message) {
    (message.kind == 0 ? pid : exec_errno) = message.value;
  }
  ::close(report[0]);
  if (exec_errno != 0 || pid <= 0) {
    return Error::failure(fmt::format("cannot run {}: {}", argv.front(),
                                      std::strerror(exec_errno != 0 ? exec_errno : ECHILD)));
  }
  return pid;
}

bool is_process_of(pid_t pid, const std::filesystem::path& binary) {
  if (pid <= 0 || (::kill(pid, 0) != 0 && errno != EPERM)) {
    return false;
  }
  const std::string proc = "/proc/" + std::to_string(pid);
  // "PID (COMM) STATE ...": a zombie (nobody reaped it yet) has ended.
  const std::string stat = read_first_line(proc + "/stat");
  const auto paren = stat.rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat.size() || stat[paren + 2] == 'Z' ||
      stat[paren + 2] == 'X') {
    return false;
  }
  std::error_code ec;
  std::string exe = std::filesystem::read_symlink(proc + "/exe", ec).string();
  if (ec) {
    return false;
  }
  if (exe.ends_with(" (deleted)")) {  // the package was upgraded under it
    exe.resize(exe.size() - std::strlen(" (deleted)"));
  }
  return std::filesystem::path(exe).filename() == binary.filename();
}

Result<bool> terminate(pid_t pid, const std::filesystem::path& binary,
                       std::chrono::milliseconds timeout) {
  const auto wait_gone = [&](std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (is_process_of(pid, binary)) {
      if (std::chrono::steady_clock::now() >= deadline) {
        return false;
      }
      ::waitpid(pid, nullptr, WNOHANG);  // our own child in tests; harmless otherwise
      std::this_thread::sleep_for(20ms);
    }
    return true;
  };
  ::kill(pid, SIGTERM);
  if (wait_gone(timeout)) {
    return false;
  }
  ::kill(pid, SIGKILL);
  if (wait_gone(2000ms)) {
    return true;
  }
  return Error::failure(
      fmt::format("docker-registry (pid {}) is still running after SIGTERM and SIGKILL", pid));
}

long http_status(const std::string& url, std::chrono::milliseconds timeout) {
  static const bool k_initialised = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  (void)k_initialised;
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), &curl_easy_cleanup);
  if (!curl) {
    return 0;
  }
  const auto discard =
      +[](char*, std::size_t size, std::size_t count, void*) { return size * count; };
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_NOPROXY, "*");  // $http_proxy must not answer for it
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, discard);
  if (curl_easy_perform(curl.get()) != CURLE_OK) {
    return 0;
  }
  long status = 0;
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
  return status;
}

std::string bind_problem(const std::string& address, int port) {
  sockaddr_in where{};
  where.sin_family = AF_INET;
  where.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::inet_pton(AF_INET, address.c_str(), &where.sin_addr) != 1) {
    return "not an IPv4 address";
  }
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return std::strerror(errno);
  }
  const int on = 1;  // as Go's listener: a port in TIME_WAIT is free
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  const int rc = ::bind(fd, reinterpret_cast<const sockaddr*>(&where), sizeof where);
  const int err = errno;
  ::close(fd);
  return rc == 0 ? std::string() : std::string(std::strerror(err));
}

std::string last_failure(const std::filesystem::path& log, std::uintmax_t from) {
  std::ifstream in(log);
  in.seekg(static_cast<std::streamoff>(from));
  std::string line, last, failure;
  while (std::getline(in, line)) {
    if (line.empty()) {
      continue;
    }
    last = line;
    if (line.starts_with("panic: ") || line.find("level=fatal") != std::string::npos ||
        line.find("level=error") != std::string::npos) {
      failure = line;
    }
  }
  return message_of(failure.empty() ? last : failure);
}

}  // namespace labctl::registry
