#pragma once

// A VM's serial console, read as it grows, for the signs that its boot has failed for good:
// a kernel panic, a Python traceback (cloud-init is the only Python that runs at boot), or
// systemd failing to start a cloud-init unit. `up` then fails the stage it is waiting for at
// once, with those lines, instead of at the stage's timeout.

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

namespace labctl::ready {

struct ConsoleFailure {
  std::string what;                // "kernel panic", "cloud-init traceback", ...
  std::string summary;             // the line that says most: the sign, or a traceback's error
  std::vector<std::string> lines;  // the lines that show it, a little context before
};

// What a failure sign on `line` means, or "" when it is none.
std::string failure_sign(const std::string& line);

// What the console last said of cloud-init: nothing, a stage started ("Cloud-init v. 22.4.2
// running 'init' at ..."), or its final message printed (cloud-init's own "Cloud-init v. ...
// finished at ...", or a labctl seed's "labctl: INSTANCE-ID up after N seconds").
enum class CloudInit { silent, running, finished };
// What `line` says of cloud-init; silent when it says nothing of it.
CloudInit cloud_init_sign(const std::string& line);

// Reads the console log at `path` from where the last poll stopped. The log is written from
// the start at each start of the VM (libvirt `append="off"`), so a log shorter than the
// offset is read again from its beginning.
class ConsoleWatch {
 public:
  explicit ConsoleWatch(std::string path);
  // The first failure seen so far, reading what was appended since the last call.
  std::optional<ConsoleFailure> poll();
  // What the lines read by the last poll said of cloud-init (the last such line wins: a VM
  // that reboots starts its stages again).
  CloudInit cloud_init() const { return m_cloud_init; }
  // True when what the console last said of cloud-init is its final stage starting ("running
  // 'modules:final'") or its final message: what is left of the boot is the lab's own work
  // (packages, runcmd), not the kernel's, systemd's and cloud-init's first stages.
  bool final_stage() const { return m_final_stage; }

 private:
  void take_line(std::string line);

  std::string m_path;
  std::uintmax_t m_offset = 0;
  std::string m_partial;              // an incomplete last line, kept for the next poll
  std::deque<std::string> m_context;  // the last lines before a sign
  std::optional<ConsoleFailure> m_failure;
  std::size_t m_after = 0;      // lines still to add after the sign
  bool m_in_traceback = false;  // a traceback's frames still come: its error line ends them
  CloudInit m_cloud_init = CloudInit::silent;
  bool m_final_stage = false;
};

}  // namespace labctl::ready
