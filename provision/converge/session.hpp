#pragma once

// The converge layer: one Session per command holds the lab, the classroom's state directory,
// the hypervisors it connected (one per host URI), the reporter and the options, and runs
// `up`, `reset`, `down` and the dry run of `plan` on them. It prints nothing: it returns what
// it found and did, and the CLI (or, later, a web console) shows it.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "provision/converge/host.hpp"
#include "provision/converge/placement.hpp"

namespace labctl::converge {

// One host's share of `up`, checked before anything on any host changes.
struct HostWork {
  std::string uri;
  std::vector<const model::Team*> teams;
  hv::Hypervisor* hypervisor = nullptr;  // the session's
  hv::Inventory inventory;
  plan::Plan plan;
};

// What `up` did after its checks: every waited-for VM's readiness, and the hosts it failed on
// ("\n  URI: why" each).
struct UpResult {
  std::vector<ready::VmReadiness> results;
  std::string failures;
};

// What `plan` and `up --dry-run` show for one host.
struct HostPlan {
  plan::Plan plan;
  std::string unreached;  // why the host could not be asked: planned against an empty one
  Status checks;          // what `up` would refuse there
  std::optional<std::vector<std::string>> scripts;  // a scripted backend's (Hyper-V) scripts
  Status scripted;                                  // the actions that could not be scripted
};

// One host's share of `down`.
struct HostDown {
  std::string uri;
  hv::Hypervisor* hypervisor = nullptr;  // the session's
  plan::Plan plan;
};

// Everything `down` deletes, shown and confirmed as a whole before anything goes.
struct DownPlan {
  std::vector<HostDown> hosts;
  std::vector<HostDown> refused_hosts;  // holding another identity's objects: shown, not run
  sys::Removal state;                   // --all: the classroom's state directory
  std::string failures;  // hosts that could not be read: the state directory stays then
  std::string refused;   // why each refused host was: nothing is deleted then
  std::size_t size() const;
};

// The scope of a host's teams; `all` (--all) stays only when they are every team of the lab.
plan::Scope scope_of_teams(const model::Lab& lab, const std::vector<const model::Team*>& teams,
                           bool all);

// The hosts `down` visits: the scope's, and with `all` also every listed host that holds no
// team now (a team removed from the file, a placement that moved): only tagged objects go
// there. An error when the placement record the teams' hosts depend on cannot be read.
Result<std::vector<std::string>> down_hosts(const HostChoice& hosts, const model::Lab& lab,
                                            const plan::Scope& scope, bool all);

// The state directory `down` works in: writable when it holds a classroom's state, else
// read-only (`down` writes nothing there then).
Result<sys::StateDir> down_state_dir(const std::string& classroom);

// Opens a host by URI; tests give test:///default or a fake.
using Connect = std::function<Result<std::unique_ptr<hv::Hypervisor>>(const std::string& uri)>;

class Session {
 public:
  Session(model::Lab& lab, Options options, Connect connect = &hv::open_hypervisor);

  // Progress goes here from now on (until then: nowhere); the reporter outlives the session's
  // use of it. Set late because a reporter's clock starts when it is made.
  void report_to(sys::Reporter& reporter) { m_reporter = &reporter; }
  // The classroom's state directory: read-only for the checks, the writable one once the
  // session changes hosts (open_classroom).
  void use_state(sys::StateDir state) { m_state = std::move(state); }

  const model::Lab& lab() const { return m_lab; }

  // The state directory in use (an Error before use_state or open_classroom).
  Result<const sys::StateDir*> state() const;

  // Connected once per URI, kept for the session.
  Result<hv::Hypervisor*> hypervisor(const std::string& uri);

  // `plan` / `up --dry-run` on one host: the plan against the host's inventory, the checks
  // `up` would make (when the host was reached and there is something to do), and for a
  // scripted backend the scripts `up` would run, against an empty host when the host cannot
  // be reached from here.
  Result<HostPlan> plan_host(const std::string& uri, const plan::Scope& scope);

  // `up`, first half: connects, plans and checks every host; changes nothing. Every host is
  // checked before any is changed: a conflict on the second host must not leave the first
  // one half converged.
  Result<std::vector<HostWork>> prepare_up(const std::vector<HostTeams>& hosts, bool all);
  // Opens (creating) the classroom's state directory and claims the identity that
  // prepare_up's checks were made with (or, on a classroom's first `up`, a new one: no
  // object can carry it yet).
  Status open_classroom();
  // `up`, second half: on each host adopt (--adopt), apply, record known hosts, wait.
  UpResult converge(std::vector<HostWork>& hosts);

  // Back to first boot for `vms` (all of the team's, or the one `vm_key` names), then the
  // wait unless no_wait.
  Result<std::vector<ready::VmReadiness>> reset(const std::string& uri, const model::Team& team,
                                                const std::string& vm_key,
                                                const std::vector<const model::Vm*>& vms);

  // `down` for a command: the classroom's identity read (another identity's objects are
  // adopted with options.adopt, else refused), the hosts down_hosts visits, and plan_down on
  // them; a state directory that holds only a lock lists nothing. Changes nothing.
  Result<DownPlan> prepare_down(const HostChoice& hosts, const plan::Scope& scope, bool all,
                                bool purge);
  // `down`: what would go on each host, and with `all` the state directory (its dumps too
  // with `purge`). Changes nothing.
  DownPlan plan_down(const std::vector<std::string>& uris, const plan::Scope& scope, bool all,
                     bool purge);
  // Deletes what plan_down found, the state directory's paths last, once nothing on any host
  // needs them (kept when a host failed).
  Status down(const DownPlan& plan, bool all);

 private:
  Result<HostWork> prepare_host(const HostTeams& host, bool all);
  Status converge_host(HostWork& work, std::vector<ready::VmReadiness>& results);

  model::Lab& m_lab;
  Options m_options;
  Connect m_connect;
  std::unique_ptr<sys::Reporter> m_quiet;
  sys::Reporter* m_reporter;
  std::optional<sys::StateDir> m_state;
  std::map<std::string, std::unique_ptr<hv::Hypervisor>> m_hypervisors;
};

}  // namespace labctl::converge
