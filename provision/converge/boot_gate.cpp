#include "provision/converge/boot_gate.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace labctl::converge {

BootGate::BootGate(Settings settings, sys::Reporter& reporter)
    : m_settings(std::move(settings)), m_reporter(reporter) {}

bool BootGate::needed(int cores, int vcpus_to_start) {
  return cores > 0 && vcpus_to_start > cores;
}

const ready::Clock& BootGate::clock() const {
  return m_settings.clock != nullptr ? *m_settings.clock : ready::real_clock();
}

bool BootGate::still_booting(Booting& booting) const {
  if (!booting.console) {
    return true;  // its start has not returned yet
  }
  if (clock().now() - booting.since >= m_settings.bound) {
    return false;
  }
  if (booting.console->poll() || booting.console->final_stage()) {
    return false;
  }
  return !m_settings.running || m_settings.running(*booting.vm);
}

std::list<BootGate::Booting>::iterator BootGate::try_admit(const model::Vm& vm,
                                                           std::uint64_t ticket, bool& admitted) {
  int vcpus = 0;
  for (auto it = m_booting.begin(); it != m_booting.end();) {
    if (still_booting(*it)) {
      vcpus += it->vm->vcpus;
      ++it;
    } else {
      it = m_booting.erase(it);
    }
  }
  admitted =
      m_waiting.front() == ticket && (m_booting.empty() || vcpus + vm.vcpus <= m_settings.cores);
  if (!admitted) {
    return m_booting.end();
  }
  m_waiting.pop_front();
  return m_booting.insert(m_booting.end(), Booting{&vm, clock().now(), std::nullopt});
}

Status BootGate::start(const model::Vm& vm, const std::function<Status()>& start) {
  const std::string subject = "start vm " + vm.name;
  std::list<Booting>::iterator slot;
  std::uint64_t ticket = 0;
  {
    std::lock_guard lock(m_mutex);
    ticket = m_next_ticket++;
    m_waiting.push_back(ticket);
  }
  for (bool told = false;;) {
    bool admitted = false;
    {
      std::lock_guard lock(m_mutex);
      slot = try_admit(vm, ticket, admitted);
      if (!admitted && m_settings.stop != nullptr && m_settings.stop->load()) {
        m_waiting.erase(std::find(m_waiting.begin(), m_waiting.end(), ticket));
        return Error::failure("stopped by request before the VM was started");
      }
    }
    if (admitted) {
      break;
    }
    if (!told) {
      m_reporter.report({vm.team, vm.key, subject, sys::EventState::info,
                         fmt::format("waits for the VMs booting before it: under TCG, VMs boot "
                                     "together only while their vCPUs fit the host's {} cores",
                                     m_settings.cores)});
      told = true;
    }
    clock().sleep(m_settings.poll);
  }
  Status started = start();
  std::lock_guard lock(m_mutex);
  if (!started) {
    m_booting.erase(slot);
    return started;
  }
  slot->since = clock().now();
  slot->console.emplace(m_settings.serial_log ? m_settings.serial_log(vm) : std::string());
  return started;
}

}  // namespace labctl::converge
