#pragma once

// One PowerShell for a whole run: a long-lived powershell.exe runs a loop script
// (render_session_loop) that reads one script per stdin line (base64 of UTF-16LE, so a line
// is a whole script), runs it from a temporary .ps1 file (its `exit` ends the script, not the
// loop) and ends its stdout and its stderr with a sentinel line that carries a random per-run
// nonce and, on stdout, the exit status:
//
//     labctl-end-<32 hex digits> <exit code>
//
// A script's output cannot end its frame early: it does not know the nonce, and the
// sentinel must begin a line. Each script has a timeout: past it, the process is killed
// and the next script starts a new one.

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "hypervisors/hyperv/runner.hpp"
#include "provision/sys/live_process.hpp"

namespace labctl::hv::hyperv {

struct SessionOptions {
  std::string program = "powershell.exe";
  std::chrono::milliseconds timeout = std::chrono::minutes(5);
  // upload-volume copies a base image of several GiB from WSL's file system.
  std::chrono::milliseconds upload_timeout = std::chrono::minutes(30);
  std::string nonce;  // "" = session_nonce()
};

class SessionPowerShellRunner : public PowerShellRunner {
 public:
  explicit SessionPowerShellRunner(sys::LiveStarter start, SessionOptions options = {});
  // Thread-safe: the apply engine's workers take turns (one PowerShell runs one script).
  Result<PsResult> run(const std::string& script) override;
  int processes_started() const;

 private:
  Status start();
  Result<sys::ProcessResult> exchange(const std::string& script);

  sys::LiveStarter m_start;
  SessionOptions m_options;
  std::unique_ptr<sys::LiveProcess> m_process;
  int m_started = 0;
  mutable std::mutex m_mutex;
};

// What hyperv:// runs scripts with: a session on a real powershell.exe.
std::unique_ptr<PowerShellRunner> make_powershell_runner();

// 128 random bits as 32 hex digits (sys::random_hex128).
std::string session_nonce();

// The loop the long-lived PowerShell runs; `nonce` must be hex digits.
Result<std::string> render_session_loop(std::string_view nonce);

// The sentinel line "<end>[ <code>]" that closes a stream, at the start of a line of
// `stream`: where the script's own text ends, and the exit code (0 on stderr); nullopt
// while the whole line has not arrived.
struct Sentinel {
  std::size_t text_end = 0;
  int code = 0;
};
std::optional<Sentinel> find_sentinel(const std::string& stream, const std::string& end,
                                      bool with_code);

}  // namespace labctl::hv::hyperv
