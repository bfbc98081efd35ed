#pragma once

// Running other programs: the seam that tests replace (a dry run or a fake is just another
// ProcessRunner). Arguments are passed as a vector to execvp: never through a shell.

#include <map>
#include <string>
#include <vector>

#include "provision/result.hpp"

namespace labctl::sys {

struct ProcessResult {
  int exit_code = 0;
  std::string out;
  std::string err;
};

struct ProcessOptions {
  std::string input;                       // written to the child's stdin, then closed
  std::map<std::string, std::string> env;  // added to the environment
  std::string cwd;                         // "" = inherit
  bool passthrough_stderr = false;         // let stderr reach the terminal (long builds)
};

class ProcessRunner {
 public:
  virtual ~ProcessRunner() = default;
  // Fails only when the program cannot be started; a non-zero exit is a value.
  virtual Result<ProcessResult> run(const std::vector<std::string>& argv,
                                    const ProcessOptions& options) = 0;
  Result<ProcessResult> run(const std::vector<std::string>& argv) { return run(argv, {}); }
};

// fork/execvp with pipes for stdin, stdout and stderr.
class SystemRunner : public ProcessRunner {
 public:
  using ProcessRunner::run;
  Result<ProcessResult> run(const std::vector<std::string>& argv,
                            const ProcessOptions& options) override;
};

// Runs argv and turns a non-zero exit into an Error carrying the last line of stderr.
Result<std::string> run_checked(ProcessRunner& runner, const std::vector<std::string>& argv,
                                const ProcessOptions& options = {});

// True when `program` is found on PATH.
bool on_path(const std::string& program);

}  // namespace labctl::sys
