#pragma once

// Under TCG (no KVM), VMs that boot together on fewer host cores than their vCPUs waste most of
// the host's CPU: QEMU runs each vCPU on a thread of its own, and a vCPU that waits for another
// of its VM (a spinlock, a TLB flush, an IPI) spins while that one is descheduled. Measured on a
// 2-core host, four VMs of 2 vCPUs (bench/vs_plain.sh's team): all started at once, they used
// about 335 s of host CPU and reached Docker in about 170 s; started one after another, each
// once the previous one's cloud-init reached its final stage, 208 s and 120 s.
//
// So under TCG `up` starts a VM only when the vCPUs of the VMs still booting leave room for its
// own on the host's cores (a VM always starts when none is booting), in the order the VMs
// asked to start. A VM stops counting as
// booting once its console shows cloud-init's final stage (or its final message) or a failure
// sign, once it is no longer running, or after a bound: an image whose console says nothing of
// cloud-init holds the others back no longer than that.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <mutex>
#include <optional>
#include <string>

#include "provision/model/lab.hpp"
#include "provision/ready/console.hpp"
#include "provision/ready/stages.hpp"
#include "provision/result.hpp"
#include "provision/sys/reporter.hpp"

namespace labctl::converge {

class BootGate {
 public:
  struct Settings {
    int cores = 1;                            // the host's
    std::chrono::seconds bound{120};          // the longest one VM's boot holds others
    std::chrono::milliseconds poll{250};      // how often a waiting start looks again
    const std::atomic<bool>* stop = nullptr;  // a stop request ends a wait
    const ready::Clock* clock = nullptr;      // null: ready::real_clock()
    std::function<std::string(const model::Vm&)> serial_log;  // the VM's console log
    std::function<bool(const model::Vm&)> running;            // unset: taken as running
  };
  BootGate(Settings settings, sys::Reporter& reporter);

  // Starts `vm` with `start` once there is room for it, and counts it as booting from then on.
  // A start that fails leaves the room it took. Stopped while waiting: an error, not started.
  Status start(const model::Vm& vm, const std::function<Status()>& start);

  // Whether a plan's starts need the gate at all: their vCPUs exceed the cores.
  static bool needed(int cores, int vcpus_to_start);

 private:
  struct Booting {
    const model::Vm* vm = nullptr;
    std::chrono::steady_clock::time_point since;
    std::optional<ready::ConsoleWatch> console;  // empty until its start returned
  };
  // Under m_mutex: drops the VMs whose boot is over, then takes room for `vm` if it fits.
  // Only the first of the waiting starts (`ticket`, in the order they asked) is admitted.
  std::list<Booting>::iterator try_admit(const model::Vm& vm, std::uint64_t ticket, bool& admitted);
  bool still_booting(Booting& booting) const;
  const ready::Clock& clock() const;

  Settings m_settings;
  sys::Reporter& m_reporter;
  std::mutex m_mutex;
  std::list<Booting> m_booting;
  std::deque<std::uint64_t> m_waiting;  // tickets of the starts that wait, oldest first
  std::uint64_t m_next_ticket = 0;
};

}  // namespace labctl::converge
