#pragma once

// FakePowerShell: a Windows host in memory behind a fake process runner. It receives the
// exact argv labctl would give powershell.exe, decodes the -EncodedCommand script, keys on
// its header line ("# labctl create-vm cd26-team1-vm1") and answers the way the script
// would on Hyper-V: JSON in the cmdlets' documented shapes for queries, exit code 1 with a
// "labctl-error:" line (and the usual stderr noise) for failures.

#include <map>
#include <set>
#include <string>
#include <vector>

#include "provision/sys/process.hpp"

namespace labctl::hv::hyperv::testing {

class FakePowerShell : public sys::ProcessRunner {
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
  bool pool = false;
  bool numeric_state = false;  // write State as PowerShell 5.1 does for enums: 2, 3, ...
  std::string fail_on;         // "verb subject": fails once, after a partial effect
  std::string fail_message;
  std::vector<std::string> calls;  // "verb subject", in order

  using ProcessRunner::run;
  Result<sys::ProcessResult> run(const std::vector<std::string>& argv,
                                 const sys::ProcessOptions& options) override;

 private:
  sys::ProcessResult apply(const std::string& verb, const std::string& subject,
                           const std::string& script);
  sys::ProcessResult create_vm(const std::string& name, const std::string& script, bool partial);
  sys::ProcessResult create_network(const std::string& name, const std::string& script);
  sys::ProcessResult delete_tagged(const std::string& verb, const std::string& name,
                                   const std::string& script);
  sys::ProcessResult delete_switch(const std::string& name, const std::string& script);
  std::string inventory_json(const std::string& classroom) const;
  std::string host_networks_json() const;
};

// Base64 and UTF-16LE decoded back: the inverse of encode_command(), for tests.
std::string decode_command(const std::string& encoded);

}  // namespace labctl::hv::hyperv::testing
