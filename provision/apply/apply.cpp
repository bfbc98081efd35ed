#include "provision/apply/apply.hpp"

#include <algorithm>
#include <map>
#include <mutex>
#include <thread>

#include <fmt/format.h>

namespace labctl::apply {

using plan::Action;
using plan::Op;
using plan::Role;

namespace {

const model::Vm* find_vm(const model::Lab& lab, const std::string& team, const std::string& key) {
  if (const model::Team* t = lab.find_team(team)) {
    for (const model::Vm& vm : t->vms) {
      if (vm.key == key) {
        return &vm;
      }
    }
  }
  return nullptr;
}

const model::Network* find_network(const model::Lab& lab, const std::string& name) {
  for (const model::Team& team : lab.teams) {
    for (const model::Network& net : team.networks) {
      if (net.name == name) {
        return &net;
      }
    }
  }
  return nullptr;
}

std::string describe(const Action& action) {
  return fmt::format("{} {} {}", plan::to_string(action.op), plan::to_string(action.role),
                     action.name);
}

class Runner {
 public:
  Runner(const model::Lab& lab, hv::Hypervisor& hypervisor, Materializer& materializer,
         sys::Reporter& reporter, const Options& options)
      : m_lab(lab), m_hv(hypervisor), m_mat(materializer), m_rep(reporter), m_opt(options) {}

  // Runs one action with retries and reports it. Returns false when it failed or was skipped.
  bool run(const Action& action) {
    if (stopping()) {
      report(action, sys::EventState::skipped, "stopped by request", 0);
      count(&Outcome::skipped, "");
      return false;
    }
    report(action, sys::EventState::running, action.reason, 0);
    const auto start = std::chrono::steady_clock::now();
    Status status = execute(action);
    for (int attempt = 0; !status.ok() && is_transient(status.error()) && attempt < m_opt.retries;
         ++attempt) {
      report(action, sys::EventState::info, "retrying: " + status.error().message, 0);
      std::this_thread::sleep_for(m_opt.retry_delay * (attempt + 1));
      status = execute(action);
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!status.ok()) {
      report(action, sys::EventState::failed, status.error().message, seconds);
      count(&Outcome::failed,
            fmt::format("{}: {}: {}", who(action), describe(action), status.error().message));
      return false;
    }
    report(action, sys::EventState::done, "", seconds);
    count(&Outcome::done, "");
    return true;
  }

  void skip(const Action& action, const std::string& why) {
    report(action, sys::EventState::skipped, why, 0);
    count(&Outcome::skipped, "");
  }

  bool stopping() const { return m_opt.stop != nullptr && m_opt.stop->load(); }
  Outcome outcome() {
    std::lock_guard lock(m_mutex);
    m_outcome.interrupted = stopping();
    return m_outcome;
  }

 private:
  Status execute(const Action& action) {
    switch (action.kind()) {
      case hv::ObjectKind::network:
        return execute_network(action);
      case hv::ObjectKind::pool:
        return action.op == Op::remove ? m_hv.delete_pool(m_lab.classroom, action.name)
                                       : m_hv.create_pool(m_lab);
      case hv::ObjectKind::volume:
        return execute_volume(action);
      case hv::ObjectKind::domain:
        return execute_domain(action);
      case hv::ObjectKind::forward:
        // publish replaces what of the team's forwarding is there: create and recreate alike.
        return action.op == Op::remove ? m_hv.unpublish(m_lab, action.team)
                                       : m_hv.publish(m_lab, action.team);
    }
    return Error::failure("unknown action");
  }

  Status execute_network(const Action& action) {
    if (action.op != Op::create) {
      if (auto st = m_hv.delete_network(m_lab.classroom, action.name);
          !st || action.op == Op::remove) {
        return st;
      }
    }
    const model::Network* net = find_network(m_lab, action.name);
    if (net == nullptr) {
      return Error::failure("network not in the lab file");
    }
    return m_hv.create_network(m_lab, *net);
  }

  // Volume operations of one pool run one at a time (libvirt serializes them anyway and
  // interleaved uploads only compete for the same disk).
  Status execute_volume(const Action& action) {
    std::lock_guard lock(pool_mutex(action.pool));
    if (action.op == Op::remove || action.op == Op::recreate) {
      if (auto st = m_hv.delete_volume(action.pool, action.name); !st || action.op == Op::remove) {
        return st;
      }
    }
    if (action.role == Role::disk) {
      const model::Vm* vm = find_vm(m_lab, action.team, action.vm);
      return vm == nullptr
                 ? Status(Error::failure("VM not in the lab file"))
                 : m_hv.create_overlay(action.pool, action.name, m_lab.base_volume, vm->disk);
    }
    Result<std::string> file = local_file(action);
    if (!file) {
      return file.error();
    }
    const auto format =
        action.role == Role::base_disk ? hv::VolumeFormat::qcow2 : hv::VolumeFormat::raw;
    return m_hv.upload_volume(action.pool, action.name, *file, format);
  }

  Result<std::string> local_file(const Action& action) {
    if (action.role != Role::seed) {
      return m_mat.base_file(action.role);
    }
    const model::Vm* vm = find_vm(m_lab, action.team, action.vm);
    if (vm == nullptr) {
      return Error::failure("VM not in the lab file");
    }
    return m_mat.seed_file(*vm);
  }

  Status execute_domain(const Action& action) {
    if (action.op == Op::start) {
      const auto start = [&] { return m_hv.start_domain(m_lab, action.name); };
      const model::Vm* vm = find_vm(m_lab, action.team, action.vm);
      return m_opt.start_vm && vm != nullptr ? m_opt.start_vm(*vm, start) : start();
    }
    if (action.op == Op::remove || action.op == Op::recreate) {
      if (auto st = remove_domain(action.name); !st || action.op == Op::remove) {
        return st;
      }
    }
    const model::Vm* vm = find_vm(m_lab, action.team, action.vm);
    if (vm == nullptr) {
      return Error::failure("VM not in the lab file");
    }
    hv::DomainRequest request{&m_lab, vm, m_mat.accelerator(), m_mat.serial_log(*vm)};
    return m_hv.create_domain(request);
  }

  Status remove_domain(const std::string& name) {
    auto state = m_hv.domain_state(name);
    if (state && *state != hv::PowerState::off) {
      if (auto st = m_hv.stop_domain(name); !st) {
        return st;
      }
    }
    return m_hv.delete_domain(m_lab.classroom, name);
  }

  std::mutex& pool_mutex(const std::string& pool) {
    std::lock_guard lock(m_mutex);
    return m_pool_mutexes[pool];
  }

  static std::string who(const Action& action) {
    if (action.team.empty()) {
      return "classroom";
    }
    return action.vm.empty() ? action.team : action.team + "/" + action.vm;
  }

  void report(const Action& action, sys::EventState state, const std::string& message,
              double seconds) {
    m_rep.report({action.team, action.vm, describe(action), state, message, seconds});
  }

  void count(int Outcome::*field, const std::string& error) {
    std::lock_guard lock(m_mutex);
    ++(m_outcome.*field);
    if (!error.empty()) {
      m_outcome.errors.push_back(error);
    }
  }

  const model::Lab& m_lab;
  hv::Hypervisor& m_hv;
  Materializer& m_mat;
  sys::Reporter& m_rep;
  const Options& m_opt;
  std::mutex m_mutex;
  std::map<std::string, std::mutex> m_pool_mutexes;
  Outcome m_outcome;
};

// Runs `chains` on at most `jobs` threads; a chain stops at its first failure.
void run_parallel(Runner& runner, const std::vector<std::vector<Action>>& chains, int jobs) {
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (std::size_t i = next++; i < chains.size(); i = next++) {
      bool ok = true;
      for (const Action& action : chains[i]) {
        if (ok) {
          ok = runner.run(action);
        } else {
          runner.skip(action, runner.stopping() ? "stopped by request"
                                                : "an earlier step of this VM failed");
        }
      }
    }
  };
  std::vector<std::jthread> threads;
  const int count = std::max(1, std::min<int>(jobs, static_cast<int>(chains.size())));
  threads.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    threads.emplace_back(worker);
  }
}

// A plan is cut in steps that must finish before the next starts. Within a step, actions
// that share a VM form one chain; chains run in parallel. Network and classroom-wide actions
// are single-action steps, so they run one at a time.
std::vector<std::vector<std::vector<Action>>> steps_of(const plan::Plan& plan) {
  std::vector<std::vector<std::vector<Action>>> steps;
  // 0: VMs deleted, 1: their volumes, 2: shared deletes, 3: shared creates, 4: VM chains.
  auto phase = [](const Action& a) {
    if (a.op == Op::remove) {
      return a.role == Role::domain ? 0 : (a.role == Role::seed || a.role == Role::disk) ? 1 : 2;
    }
    return a.vm.empty() ? 3 : 4;
  };
  std::map<int, std::vector<Action>> by_phase;
  for (const Action& action : plan.actions) {
    by_phase[phase(action)].push_back(action);
  }
  for (auto& [number, actions] : by_phase) {
    if (number == 2 || number == 3) {
      for (const Action& action : actions) {
        steps.push_back({{action}});
      }
      continue;
    }
    std::map<std::string, std::size_t> chain_of;
    std::vector<std::vector<Action>> chains;
    for (const Action& action : actions) {
      const std::string key = action.vm.empty() ? action.name : action.team + "/" + action.vm;
      auto [it, inserted] = chain_of.try_emplace(key, chains.size());
      if (inserted) {
        chains.emplace_back();
      }
      chains[it->second].push_back(action);
    }
    steps.push_back(std::move(chains));
  }
  return steps;
}

}  // namespace

Outcome apply(const model::Lab& lab, const plan::Plan& plan, hv::Hypervisor& hypervisor,
              Materializer& materializer, sys::Reporter& reporter, const Options& options) {
  Runner runner(lab, hypervisor, materializer, reporter, options);
  const int jobs = options.jobs > 0
                       ? options.jobs
                       : static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
  bool failed = false;
  for (const auto& step : steps_of(plan)) {
    if (failed) {
      for (const auto& chain : step) {
        for (const Action& action : chain) {
          runner.skip(action, "an earlier step failed");
        }
      }
      continue;
    }
    const int before = runner.outcome().failed;
    run_parallel(runner, step, jobs);
    // A failed VM chain does not stop the other VMs; a failed shared step stops what follows.
    failed = runner.outcome().failed > before && (step.size() == 1 && step[0][0].vm.empty());
  }
  reporter.finish();
  return runner.outcome();
}

bool is_transient(const Error& error) {
  return error.cause == ErrorCause::transient;
}

}  // namespace labctl::apply
