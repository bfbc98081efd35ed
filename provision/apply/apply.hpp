#pragma once

// Runs a plan on a hypervisor: classroom-wide and network steps one at a time, each VM's
// chain (seed, disk, domain, start) on a bounded pool of workers, volume operations of one
// pool serialized, transient errors retried. A stop request (Ctrl-C) lets the actions in
// flight finish and skips the rest; what is left is something a new `up` converges.

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "hypervisors/hypervisor.hpp"
#include "provision/model/lab.hpp"
#include "provision/plan/plan.hpp"
#include "provision/sys/reporter.hpp"

namespace labctl::apply {

// Produces what the actions need from outside the hypervisor: the local files that volume
// actions upload, and per-VM settings that depend on the machine labctl runs on.
class Materializer {
 public:
  virtual ~Materializer() = default;
  virtual Result<std::string> base_file(plan::Role role) = 0;      // base disk, kernel, initrd
  virtual Result<std::string> seed_file(const model::Vm& vm) = 0;  // renders and writes the seed
  virtual std::string serial_log(const model::Vm& vm) = 0;
  virtual std::string accelerator() = 0;  // "kvm" or "qemu"
};

struct Options {
  int jobs = 0;  // 0: the number of cores
  int retries = 2;
  std::chrono::milliseconds retry_delay{500};
  const std::atomic<bool>* stop = nullptr;  // set by the SIGINT/SIGTERM handler
  // How a VM is started: `start` starts it. Unset: at once. `up` under TCG gives one that
  // waits until the VMs booting before it leave room on the host's cores (converge::BootGate).
  std::function<Status(const model::Vm& vm, const std::function<Status()>& start)> start_vm;
};

struct Outcome {
  int done = 0;
  int failed = 0;
  int skipped = 0;
  bool interrupted = false;
  std::vector<std::string> errors;  // "team3/vm2: create vm cd26-team3-vm2: <why>"

  bool ok() const { return failed == 0 && !interrupted; }
};

Outcome apply(const model::Lab& lab, const plan::Plan& plan, hv::Hypervisor& hypervisor,
              Materializer& materializer, sys::Reporter& reporter, const Options& options);

// Errors worth another try (locks held, timeouts, busy resources): the backend that made the
// error said so in its cause.
bool is_transient(const Error& error);

}  // namespace labctl::apply
