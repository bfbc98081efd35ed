#pragma once

// What `labctl serve` runs behind its pages: the classroom probed in the background (the
// converge layer's status, as `labctl status` probes it) and the instructor's actions (add,
// remove and upgrade an instance, reset a VM, up and down of a team), each through the same
// converge calls as the CLI, on a worker thread under the classroom lock, its progress into
// the event hub. Pages read the last probe: a read never waits for a probe or an action.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "provision/converge/host.hpp"
#include "provision/converge/instances.hpp"
#include "provision/converge/placement.hpp"
#include "provision/model/lab.hpp"
#include "provision/web/auth.hpp"
#include "provision/web/events.hpp"

namespace labctl::web {

struct ConsoleOptions {
  converge::HostChoice hosts;
  converge::Options options;                                   // up and reset: force, no_wait, jobs
  std::chrono::milliseconds refresh{std::chrono::seconds(5)};  // between two probes
  bool probe = true;                 // probe the hosts (off: the lab file and state.json only)
  converge::OpenRemote open_remote;  // unset: labctl's SSH to the VM
};

// One action asked from a page.
struct ActionRequest {
  std::string kind;  // "add", "remove", "upgrade", "reset", "up", "down"
  std::string team, vm, name, version;
  std::string db = "postgresql";  // add: the new instance's database
};

struct ActionRecord {
  int id = 0;
  ActionRequest request;
  std::string state = "running";  // "done", "failed"
  std::string message;
  std::string started;  // UTC
  double seconds = 0;
};

class Console {
 public:
  Console(model::Lab lab, ConsoleOptions options, EventHub& hub);
  ~Console();
  Console(const Console&) = delete;
  Console& operator=(const Console&) = delete;

  // The probing thread; stop() ends it and waits for the running actions.
  void start();
  void stop();

  const model::Lab& lab() const { return m_lab; }
  // The classroom as `viewer` may see it: the instructor everything, a team only its own
  // VMs' endpoints and instances' health.
  nlohmann::json classroom(const Viewer& viewer) const;
  // Checks the request and starts it on a worker thread: its id, or a usage error (an
  // unknown team, VM, kind) that changed nothing.
  Result<int> run(const ActionRequest& request);
  std::vector<ActionRecord> actions() const;
  // Probe again now (after an action).
  void refresh();

 private:
  void probe_loop();
  void probe_once();
  Status perform(const ActionRequest& request, int id);
  // The action itself, once perform holds the classroom lock.
  Status perform_locked(const ActionRequest& request, HubReporter& reporter,
                        const sys::StateDir& state_dir);
  void finish(int id, const Status& status, std::chrono::steady_clock::time_point began);
  nlohmann::json team_view(const nlohmann::json& all, const std::string& team) const;

  model::Lab m_lab;
  ConsoleOptions m_options;
  EventHub& m_hub;
  std::atomic<bool> m_stop{false};

  mutable std::mutex m_mutex;  // guards what follows
  std::condition_variable m_wake;
  bool m_refresh = false;
  nlohmann::json m_rows = nlohmann::json::array();  // the last probe (status --json rows)
  std::string m_probed;                             // when, UTC
  std::string m_problem;  // why the latest probe failed (its rows are the last good ones)
  std::vector<std::string> m_versions;  // offered for a new instance
  std::vector<ActionRecord> m_actions;
  int m_next_action = 1;
  std::vector<std::thread> m_workers;
  std::thread m_prober;
};

}  // namespace labctl::web
