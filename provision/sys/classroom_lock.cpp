#include "provision/sys/classroom_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <ctime>
#include <thread>
#include <utility>

#include <nlohmann/json.hpp>

#include "provision/sys/state.hpp"

namespace labctl::sys {

namespace fs = std::filesystem;

namespace {

constexpr unsigned k_private_file = 0600;
// How often a waiting acquire tries again, and for how long a held lock may go undescribed
// (its holder between flock and write, or holder()'s brief probe) before it is reported as
// held by an unidentified process.
constexpr auto k_poll = std::chrono::milliseconds(50);
constexpr auto k_undescribed_poll = std::chrono::milliseconds(10);
constexpr int k_undescribed_polls = 50;

fs::path lock_path(const fs::path& dir) {
  return dir / "lock";
}

std::string errno_text(const std::string& what, const fs::path& path) {
  return what + " " + path.string() + ": " + std::strerror(errno);
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char text[32] = {};
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

std::string read_all(int fd) {
  std::string text;
  char buffer[512];
  for (off_t at = 0;;) {
    const ssize_t n = ::pread(fd, buffer, sizeof buffer, at);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return text;
    }
    text.append(buffer, static_cast<std::size_t>(n));
    at += n;
  }
}

// The description in the lock file; nullopt when there is none (free, or a holder that has
// not written it yet), when it is half written, or when its process is gone (a stale one).
std::optional<LockHolder> described_holder(int fd) {
  const auto doc = nlohmann::json::parse(read_all(fd), nullptr, false);
  if (!doc.is_object() || !doc.contains("pid") || !doc["pid"].is_number_integer()) {
    return std::nullopt;
  }
  LockHolder holder;
  holder.pid = doc["pid"].get<long>();
  if (doc.contains("command") && doc["command"].is_string()) {
    holder.command = doc["command"].get<std::string>();
  }
  if (doc.contains("since") && doc["since"].is_string()) {
    holder.since = doc["since"].get<std::string>();
  }
  if (holder.pid <= 0 || (::kill(static_cast<pid_t>(holder.pid), 0) != 0 && errno == ESRCH)) {
    return std::nullopt;
  }
  return holder;
}

Status write_description(int fd, const fs::path& path, const std::string& command) {
  const nlohmann::json doc = {
      {"pid", static_cast<long>(::getpid())}, {"command", command}, {"since", utc_now()}};
  const std::string text = doc.dump() + "\n";
  if (::ftruncate(fd, 0) != 0 ||
      ::pwrite(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
    return Error::failure(errno_text("cannot write", path));
  }
  return {};
}

// Whether `path` still names the file open on `fd`: its holder may have removed it.
bool still_named(int fd, const fs::path& path) {
  struct stat opened {};
  struct stat named {};
  return ::fstat(fd, &opened) == 0 && ::stat(path.c_str(), &named) == 0 &&
         opened.st_dev == named.st_dev && opened.st_ino == named.st_ino;
}

// What an acquire does while another holds the lock: fail, or tell once and poll.
class Waiter {
 public:
  Waiter(const fs::path& dir, LockWait wait, const std::function<void(const LockHolder&)>& waiting,
         const std::atomic<bool>* stop)
      : m_classroom(dir.filename().string()), m_wait(wait), m_waiting(waiting), m_stop(stop) {}

  // Called when the lock on `fd` is held elsewhere: ok to try again, an Error to give up.
  Status busy(int fd) {
    auto holder = described_holder(fd);
    if (!holder && m_undescribed++ < k_undescribed_polls) {
      return pause(k_undescribed_poll, LockHolder{});
    }
    const LockHolder known = holder.value_or(LockHolder{});
    if (m_wait == LockWait::fail) {
      return Error::failure("classroom " + m_classroom + " is busy: " + known.text(),
                            ErrorCause::transient);
    }
    if (!m_told && m_waiting) {
      m_waiting(known);
    }
    m_told = true;
    return pause(k_poll, known);
  }

 private:
  Status pause(std::chrono::milliseconds delay, const LockHolder& holder) const {
    if (m_stop != nullptr && m_stop->load()) {
      return Error::failure("classroom " + m_classroom +
                            ": stopped while waiting for its lock, held by " + holder.text());
    }
    std::this_thread::sleep_for(delay);
    return {};
  }

  std::string m_classroom;
  LockWait m_wait;
  const std::function<void(const LockHolder&)>& m_waiting;
  const std::atomic<bool>* m_stop;
  int m_undescribed = 0;
  bool m_told = false;
};

// An fd holding the flock of <dir>/lock (as it was named when opened).
Result<int> lock_file(const fs::path& dir, Waiter& waiter) {
  if (auto st = ensure_private_dir(dir); !st) {
    return st.error();
  }
  const fs::path path = lock_path(dir);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, k_private_file);
  if (fd < 0) {
    return Error::failure(errno_text("cannot open", path));
  }
  for (;;) {
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {
      return fd;
    }
    Status st = errno == EINTR         ? Status()
                : errno == EWOULDBLOCK ? waiter.busy(fd)
                                       : Status(Error::failure(errno_text("cannot lock", path)));
    if (!st) {
      ::close(fd);
      return st.error();
    }
  }
}

}  // namespace

std::string LockHolder::text() const {
  if (pid <= 0) {
    return "a process that has not said who it is yet";
  }
  std::string out = "pid " + std::to_string(pid);
  if (!command.empty()) {
    out += " (" + command + ")";
  }
  return since.empty() ? out : out + " since " + since;
}

Result<ClassroomLock> ClassroomLock::acquire(const fs::path& dir, const std::string& command,
                                             LockWait wait,
                                             const std::function<void(const LockHolder&)>& waiting,
                                             const std::atomic<bool>* stop) {
  Waiter waiter(dir, wait, waiting, stop);
  for (;;) {
    auto fd = lock_file(dir, waiter);
    if (!fd) {
      return fd.error();
    }
    if (!still_named(*fd, lock_path(dir))) {
      ::close(*fd);  // its holder removed it (`down --all`): the next one is on the new file
      continue;
    }
    ClassroomLock lock(*fd);
    if (auto st = write_description(*fd, lock_path(dir), command); !st) {
      return st.error();
    }
    return lock;
  }
}

std::optional<LockHolder> ClassroomLock::holder(const fs::path& dir) {
  const int fd = ::open(lock_path(dir).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    return std::nullopt;
  }
  std::optional<LockHolder> out;
  if (::flock(fd, LOCK_SH | LOCK_NB) == 0) {
    ::flock(fd, LOCK_UN);
  } else {
    out = described_holder(fd).value_or(LockHolder{});
  }
  ::close(fd);
  return out;
}

ClassroomLock::ClassroomLock(ClassroomLock&& other) noexcept
    : m_fd(std::exchange(other.m_fd, -1)) {}

ClassroomLock& ClassroomLock::operator=(ClassroomLock&& other) noexcept {
  if (this != &other) {
    release();
    m_fd = std::exchange(other.m_fd, -1);
  }
  return *this;
}

ClassroomLock::~ClassroomLock() {
  release();
}

void ClassroomLock::release() {
  if (m_fd < 0) {
    return;
  }
  // Emptied first: a description in the file means a holder, not one that has left.
  [[maybe_unused]] const int emptied = ::ftruncate(m_fd, 0);
  ::flock(m_fd, LOCK_UN);
  ::close(m_fd);
  m_fd = -1;
}

}  // namespace labctl::sys
