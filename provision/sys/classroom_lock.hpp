#pragma once

// One writer at a time per classroom: an flock(2) on <state dir>/lock, taken by every command
// that changes the classroom (the CLI's `up`, `down`, `reset`, `squash add|rm|upgrade`, the
// web console's actions) and held until it ends. Readers (`status`, `plan`, the console's
// views) never take it. The file holds the holder's description (JSON: pid, command, since),
// emptied on release, so a second writer is told who it waits for.
//
// flock locks an open file description, not a process: two acquires in one process (the
// console's threads) exclude each other too, and the fd is O_CLOEXEC so a child labctl
// starts (the classroom registry) never inherits it. The lock file may be deleted by its
// holder (`down --all` removes the directory): an acquire checks that the path still names
// the inode it locked, else it starts again on the new file.

#include <atomic>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "provision/result.hpp"

namespace labctl::sys {

struct LockHolder {
  long pid = 0;
  std::string command;       // "labctl up team3", "labctl serve: add team3/vm2 v6"
  std::string since;         // UTC, ISO 8601 "2026-12-06T00:40:12Z"
  std::string text() const;  // "pid 1234 (labctl up team3) since 2026-12-06T00:40:12Z"
};

enum class LockWait { wait, fail };

class ClassroomLock {
 public:
  // Takes the exclusive writer lock <dir>/lock of a classroom's state directory `dir`
  // (created 0700 when absent, the lock file 0600), and writes the holder's description into
  // it. With LockWait::fail a lock held elsewhere is an Error whose message names the holder
  // ("classroom cd26 is busy: pid ... (labctl up team3) since ..."); with LockWait::wait,
  // `waiting` is called once with the holder, then it waits until the lock is free, or until
  // *stop turns true (an Error then).
  static Result<ClassroomLock> acquire(const std::filesystem::path& dir, const std::string& command,
                                       LockWait wait,
                                       const std::function<void(const LockHolder&)>& waiting = {},
                                       const std::atomic<bool>* stop = nullptr);
  // Who holds the lock now; never blocks, never creates anything (nullopt: free or no
  // directory).
  static std::optional<LockHolder> holder(const std::filesystem::path& dir);

  ClassroomLock(ClassroomLock&& other) noexcept;
  ClassroomLock& operator=(ClassroomLock&& other) noexcept;
  ClassroomLock(const ClassroomLock&) = delete;
  ClassroomLock& operator=(const ClassroomLock&) = delete;
  ~ClassroomLock();  // releases

 private:
  explicit ClassroomLock(int fd) : m_fd(fd) {}
  void release();

  int m_fd = -1;
};

}  // namespace labctl::sys
