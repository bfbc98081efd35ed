#pragma once

// FakePowerShell, for Windows only (no Windows host exists here): a Hyper-V host in memory
// behind a fake long-lived powershell.exe. It receives the exact argv labctl would start
// powershell.exe with, decodes the session loop it was given (session.hpp) for its nonce,
// then reads one script per stdin line as that loop would, keys on the script's header
// line ("# labctl create-vm cd26-team1-vm1") and answers the way the script would on
// Hyper-V: JSON in the cmdlets' documented shapes for queries, exit code 1 with a
// "labctl-error:" line (and the usual stderr noise) for failures, each stream closed by
// the loop's sentinel line.

#include <map>
#include <set>
#include <string>
#include <vector>

#include "hypervisors/hyperv/runner.hpp"
#include "provision/sys/live_process.hpp"
#include "provision/sys/process.hpp"

namespace labctl::testing {

class FakePowerShell {
 public:
  struct Vm {
    std::string notes;
    std::string state = "Off";
  };

  std::map<std::string, Vm> vms;
  std::map<std::string, std::string> switches;   // name -> Notes
  std::set<std::string> internal;                // switches of type Internal (nat networks)
  std::map<std::string, std::string> addresses;  // switch -> host address "10.61.1.1/24"
  std::map<std::string, std::string> nats;       // NetNat name -> its inside prefix
  std::set<std::string> files;                   // in the classroom's directory
  std::map<std::string, std::string> com_ports;  // VM -> its COM1 path (a named pipe)
  std::map<std::string, std::string> consoles;   // VM -> the file its COM1 is captured into
  // VM -> what it writes on COM1 when it starts: the capture writes it into the console file
  // (a \\wsl.localhost\Debian\ path: the Linux file under /).
  std::map<std::string, std::string> boot_output;
  // IPv4 forwarding per interface; WSL's vEthernet is there from the start.
  std::map<std::string, bool> forwarding = {{"vEthernet (WSL)", false}};
  std::vector<std::string> forwarding_record;  // <root>\wsl-forwarding.txt
  // IPv4 routes by destination prefix ("10.255.255.1/32") -> next hop, on WSL's vEthernet.
  std::map<std::string, std::string> routes;
  std::vector<std::string> route_record;  // <root>\wsl-route.txt
  int routes_added = 0;                   // New-NetRoute runs
  // Students' access: the classroom NetNat's static mappings, external port -> "ip:port",
  // and each team's record file (render_access.cpp), team -> its lines.
  std::map<int, std::string> mappings;
  std::map<std::string, std::vector<std::string>> access_records;
  bool pool = false;
  bool numeric_state = false;  // write State as PowerShell 5.1 does for enums: 2, 3, ...
  std::string fail_on;         // "verb subject": fails once, after a partial effect
  std::string fail_message;
  std::vector<std::string> calls;  // "verb subject", in order
  // Every single-quoted literal of every script that is a Linux path ('/' and more):
  // PowerShell on Windows cannot open it. Empty when labctl mapped every local file.
  std::vector<std::string> linux_paths;

  int processes = 0;    // powershell.exe processes started
  std::string hang_on;  // "verb subject": never answers, once (a script's timeout)
  std::string die_on;   // "verb subject": the process ends without answering, once
  // "verb subject" -> what that script prints, verbatim, instead of its behaviour.
  std::map<std::string, sys::ProcessResult> scripted;

  // What `script` does on this host: exit code, stdout and stderr, as one process would.
  sys::ProcessResult answer(const std::string& script);
  // For SessionPowerShellRunner: each start is a new fake process. The fake must outlive
  // every process it started.
  sys::LiveStarter starter();

 private:
  sys::ProcessResult apply(const std::string& verb, const std::string& subject,
                           const std::string& script);
  sys::ProcessResult create_vm(const std::string& name, const std::string& script, bool partial);
  sys::ProcessResult create_network(const std::string& name, const std::string& script);
  sys::ProcessResult delete_tagged(const std::string& verb, const std::string& name,
                                   const std::string& script);
  sys::ProcessResult delete_switch(const std::string& name, const std::string& script);
  sys::ProcessResult start_vm(const std::string& name, const std::string& script);
  sys::ProcessResult publish(const std::string& team, const std::string& script);
  void unpublish(const std::string& team);
  void forward_from_wsl(const std::string& script);
  void route_to_registry(const std::string& script);
  bool labctl_nat_switches() const;
  std::string inventory_json(const std::string& classroom) const;
  std::string host_networks_json() const;
};

// WSL's `wslpath -w`, for tests (there is no WSL here): "/home/u/x" ->
// "\\wsl.localhost\Debian\home\u\x"; and its `ip -4 -o route get <address>`, whose source
// is `address` (WSL's on its link to Windows). Any other program is refused.
class FakeWslpath : public sys::ProcessRunner {
 public:
  std::vector<std::vector<std::string>> calls;  // wslpath's
  std::vector<std::string> route_queries;       // the addresses `ip route get` was asked for
  std::string address = "172.29.18.5";
  using ProcessRunner::run;
  Result<sys::ProcessResult> run(const std::vector<std::string>& argv,
                                 const sys::ProcessOptions& options) override;
};

// The runner the factory makes for hyperv://, on `host`: one session, short timeouts.
std::unique_ptr<hv::hyperv::PowerShellRunner> session_on(
    FakePowerShell& host, std::chrono::milliseconds timeout = std::chrono::seconds(30));

// Base64 and UTF-16LE decoded back: the inverse of encode_command(), for tests.
std::string decode_command(const std::string& encoded);

}  // namespace labctl::testing
