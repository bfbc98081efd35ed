#pragma once

// A child process that stays: labctl writes to its stdin and reads its stdout and stderr as
// they come, many times over (the Hyper-V backend's one PowerShell per run). The seam tests
// replace: LiveProcess is an interface, start_live_process() the real fork/exec with pipes.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "provision/result.hpp"

namespace labctl::sys {

class LiveProcess {
 public:
  using Deadline = std::chrono::steady_clock::time_point;
  virtual ~LiveProcess() = default;
  // Writes all of `text` to the child's stdin.
  virtual Status write(std::string_view text) = 0;
  // Appends to `out` and `err` what the child wrote, waiting until something comes or
  // `deadline` passes. False once the child has closed both (it ended).
  virtual bool read(std::string& out, std::string& err, Deadline deadline) = 0;
  // Ends the child at once (SIGKILL); the object can then only be destroyed.
  virtual void kill() = 0;
};

using LiveStarter =
    std::function<Result<std::unique_ptr<LiveProcess>>(const std::vector<std::string>& argv)>;

// fork/execvp with pipes. Destroying the result closes the child's stdin (the usual way
// to ask it to end), waits up to 2 s for it, then kills it.
Result<std::unique_ptr<LiveProcess>> start_live_process(const std::vector<std::string>& argv);

}  // namespace labctl::sys
