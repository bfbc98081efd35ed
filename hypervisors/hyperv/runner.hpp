#pragma once

// How scripts reach PowerShell: the seam the tests replace. The real runner feeds one
// long-lived powershell.exe (session.hpp); a dry run records the scripts instead.

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "provision/result.hpp"
#include "provision/sys/process.hpp"

namespace labctl::hv::hyperv {

struct PsResult {
  std::string out;  // the script's stdout (JSON for queries)
  std::string err;  // warnings a successful script wrote on stderr
};

class PowerShellRunner {
 public:
  virtual ~PowerShellRunner() = default;
  // A script that fails (non-zero exit) is an Error carrying the cmdlet's message.
  virtual Result<PsResult> run(const std::string& script) = 0;
};

// Records every script and runs none; every script "prints" "[]" (an empty inventory).
// Thread-safe: the apply engine runs VM chains on several workers, even in a dry run.
class RecordingRunner : public PowerShellRunner {
 public:
  Result<PsResult> run(const std::string& script) override;
  std::vector<std::string> scripts() const;

 private:
  mutable std::mutex m_mutex;
  std::vector<std::string> m_scripts;
};

// powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand <base64>:
// the command line that runs `script` (the session's loop); an Error when the script is not
// valid UTF-8 or too long for a Windows command line (32767 characters).
Result<std::vector<std::string>> powershell_argv(const std::string& program,
                                                 const std::string& script);

// The message of a failed script: its "labctl-error: " line, else the last meaningful line
// of stderr (CLIXML and "At line:" position lines skipped), else the exit code.
std::string failure_message(const sys::ProcessResult& result);

// The cause of a failed script, from its "labctl-error-category: " line (PowerShell's
// ErrorCategory): ObjectNotFound is not_found; ResourceExists and InvalidOperation (a VM in
// the wrong state) a conflict; ResourceBusy, OperationTimeout and DeadlockDetected
// transient; NotImplemented, NotEnabled and NotInstalled unsupported; anything else other.
ErrorCause failure_cause(const sys::ProcessResult& result);

}  // namespace labctl::hv::hyperv
