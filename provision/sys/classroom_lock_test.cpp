#include "provision/sys/classroom_lock.hpp"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <thread>

#include <catch2/catch.hpp>

#include "tests/support/golden.hpp"

// The classroom lock on real files with real flock(2): a second holder in this process or
// in a child is refused with the holder's description, or waits for it, or stops waiting;
// holder() only looks; a holder that removes the directory leaves the next one a fresh file.

using labctl::sys::ClassroomLock;
using labctl::sys::LockHolder;
using labctl::sys::LockWait;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

unsigned mode_of(const fs::path& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::optional<ClassroomLock> take(const fs::path& dir, const std::string& command,
                                  LockWait wait = LockWait::fail) {
  auto lock = ClassroomLock::acquire(dir, command, wait);
  INFO((lock ? std::string() : lock.error().message));
  REQUIRE(lock.ok());
  return std::move(*lock);
}

std::chrono::milliseconds since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               start);
}

// A child process holding the lock until `release` is called.
class ChildHolder {
 public:
  explicit ChildHolder(const fs::path& dir) {
    int ready[2];
    int done[2];
    REQUIRE(::pipe(ready) == 0);
    REQUIRE(::pipe(done) == 0);
    m_pid = ::fork();
    REQUIRE(m_pid >= 0);
    if (m_pid == 0) {
      ::close(ready[0]);
      ::close(done[1]);
      auto lock = ClassroomLock::acquire(dir, "labctl up team3", LockWait::fail);
      const char answer = lock ? 'y' : 'n';
      [[maybe_unused]] const ssize_t sent = ::write(ready[1], &answer, 1);
      char end = 0;
      [[maybe_unused]] const ssize_t got = ::read(done[0], &end, 1);  // until the parent closes
      ::_exit(0);
    }
    ::close(ready[1]);
    ::close(done[0]);
    m_done = done[1];
    char answer = 0;
    REQUIRE(::read(ready[0], &answer, 1) == 1);
    ::close(ready[0]);
    REQUIRE(answer == 'y');
  }
  ~ChildHolder() { release(); }
  ChildHolder(const ChildHolder&) = delete;
  ChildHolder& operator=(const ChildHolder&) = delete;

  void release() {
    if (m_done >= 0) {
      ::close(m_done);
      m_done = -1;
      int status = 0;
      ::waitpid(m_pid, &status, 0);
    }
  }
  long pid() const { return m_pid; }

 private:
  pid_t m_pid = -1;
  int m_done = -1;
};

}  // namespace

TEST_CASE("the classroom lock makes its directory and file private", "[unit][lock]") {
  labctl::testing::ScratchDir scratch("lct-lock");
  const fs::path dir = scratch.path() / "state" / "cd26";
  auto lock = take(dir, "labctl up team3");
  CHECK(mode_of(dir) == 0700);
  CHECK(mode_of(dir / "lock") == 0600);
  CHECK(contains(labctl::testing::read_file(dir / "lock"), "labctl up team3"));
  SECTION("released: the file stays, empty, and the lock is free") {
    lock.reset();
    CHECK(labctl::testing::read_file(dir / "lock").empty());
    CHECK_FALSE(ClassroomLock::holder(dir).has_value());
    CHECK(ClassroomLock::acquire(dir, "labctl down --all", LockWait::fail).ok());
  }
}

TEST_CASE("a second holder in the same process is refused with the holder named", "[unit][lock]") {
  labctl::testing::ScratchDir scratch("lct-lock");
  const fs::path dir = scratch.path() / "cd26";
  auto first = take(dir, "labctl up team3");
  auto second = ClassroomLock::acquire(dir, "labctl serve: add team3/vm2 v6", LockWait::fail);
  REQUIRE_FALSE(second.ok());
  const std::string& message = second.error().message;
  CHECK(message.starts_with("classroom cd26 is busy: pid " + std::to_string(::getpid()) +
                            " (labctl up team3) since 20"));
  CHECK(message.ends_with("Z"));
  CHECK(second.error().cause == labctl::ErrorCause::transient);

  SECTION("a moved lock is still held; moving another in releases the old one") {
    ClassroomLock moved = std::move(*first);
    first.reset();
    CHECK(ClassroomLock::holder(dir).has_value());
    auto other_dir = take(scratch.path() / "cd27", "labctl up team1");
    moved = std::move(*other_dir);
    CHECK_FALSE(ClassroomLock::holder(dir).has_value());
    CHECK(ClassroomLock::holder(scratch.path() / "cd27")->command == "labctl up team1");
  }
}

TEST_CASE("a lock held by another process: refused, and seen by holder()", "[unit][lock]") {
  labctl::testing::ScratchDir scratch("lct-lock");
  const fs::path dir = scratch.path() / "cd26";
  ChildHolder child(dir);

  const auto start = std::chrono::steady_clock::now();
  const auto holder = ClassroomLock::holder(dir);
  CHECK(since(start) < 1s);  // a look, never a wait
  REQUIRE(holder.has_value());
  CHECK(holder->pid == child.pid());
  CHECK(holder->command == "labctl up team3");
  CHECK(holder->since.size() == std::string("2026-12-06T00:40:12Z").size());
  CHECK(holder->text() ==
        "pid " + std::to_string(child.pid()) + " (labctl up team3) since " + holder->since);

  auto refused = ClassroomLock::acquire(dir, "labctl down --all", LockWait::fail);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message == "classroom cd26 is busy: " + holder->text());

  child.release();
  CHECK_FALSE(ClassroomLock::holder(dir).has_value());
  CHECK(ClassroomLock::acquire(dir, "labctl down --all", LockWait::fail).ok());
}

TEST_CASE("holder() creates nothing", "[unit][lock]") {
  labctl::testing::ScratchDir scratch("lct-lock");
  CHECK_FALSE(ClassroomLock::holder(scratch.path() / "cd26").has_value());
  CHECK_FALSE(fs::exists(scratch.path() / "cd26"));
  fs::create_directories(scratch.path() / "cd26");
  CHECK_FALSE(ClassroomLock::holder(scratch.path() / "cd26").has_value());
  CHECK_FALSE(fs::exists(scratch.path() / "cd26" / "lock"));
}

TEST_CASE("a waiting acquire is told once, then gets the lock when it is released",
          "[unit][lock]") {
  labctl::testing::ScratchDir scratch("lct-lock");
  const fs::path dir = scratch.path() / "cd26";
  auto first = take(dir, "labctl up team3");
  std::vector<LockHolder> told;
  std::thread releaser([&first] {
    std::this_thread::sleep_for(200ms);
    first.reset();
  });
  const auto start = std::chrono::steady_clock::now();
  auto second = ClassroomLock::acquire(dir, "labctl squash rm team3 vm2 v6", LockWait::wait,
                                       [&](const LockHolder& h) { told.push_back(h); });
  const auto waited = since(start);
  releaser.join();
  REQUIRE(second.ok());
  CHECK(waited >= 150ms);
  CHECK(waited < 5s);
  REQUIRE(told.size() == 1);
  CHECK(told[0].pid == ::getpid());
  CHECK(told[0].command == "labctl up team3");
  CHECK(ClassroomLock::holder(dir)->command == "labctl squash rm team3 vm2 v6");
}

TEST_CASE("a waiting acquire ends when its stop flag is set", "[unit][lock]") {
  labctl::testing::ScratchDir scratch("lct-lock");
  const fs::path dir = scratch.path() / "cd26";
  auto first = take(dir, "labctl up team3");
  std::atomic<bool> stop{false};
  std::thread stopper([&stop] {
    std::this_thread::sleep_for(100ms);
    stop.store(true);
  });
  const auto start = std::chrono::steady_clock::now();
  auto second = ClassroomLock::acquire(dir, "labctl down --all", LockWait::wait, {}, &stop);
  stopper.join();
  REQUIRE_FALSE(second.ok());
  CHECK(since(start) < 5s);
  CHECK(contains(second.error().message, "classroom cd26: stopped while waiting"));
  CHECK(contains(second.error().message, "(labctl up team3)"));
  CHECK(ClassroomLock::holder(dir)->command == "labctl up team3");
}

TEST_CASE("a holder that removes the directory leaves the waiter a fresh lock file",
          "[unit][lock]") {
  labctl::testing::ScratchDir scratch("lct-lock");
  const fs::path dir = scratch.path() / "cd26";
  auto first = take(dir, "labctl down --all");
  std::atomic<bool> waiting{false};
  std::optional<labctl::Result<ClassroomLock>> second;
  std::thread waiter([&] {
    second = ClassroomLock::acquire(dir, "labctl up team3", LockWait::wait,
                                    [&](const LockHolder&) { waiting.store(true); });
  });
  const auto start = std::chrono::steady_clock::now();
  while (!waiting.load() && since(start) < 5s) {
    std::this_thread::sleep_for(10ms);
  }
  CHECK(waiting.load());
  // `down --all`: the directory goes, lock file included, before the lock is released.
  fs::remove_all(dir);
  first.reset();
  waiter.join();
  REQUIRE(second.has_value());
  REQUIRE(second->ok());
  // The waiter holds the lock named by the path, not the removed file's.
  REQUIRE(fs::exists(dir / "lock"));
  CHECK(mode_of(dir) == 0700);
  CHECK(ClassroomLock::holder(dir)->command == "labctl up team3");
  CHECK_FALSE(ClassroomLock::acquire(dir, "labctl down --all", LockWait::fail).ok());
}
