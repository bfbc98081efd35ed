#include "provision/converge/session.hpp"

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "provision/apply/apply.hpp"
#include "provision/converge/identity.hpp"
#include "provision/plan/conflicts.hpp"
#include "provision/plan/preflight.hpp"

namespace labctl::converge {

namespace {

// Local files are not produced in a dry run: the scripts name the paths they would use.
struct NoFiles : apply::Materializer {
  Result<std::string> base_file(plan::Role role) override {
    return "<" + plan::to_string(role) + " file>";
  }
  Result<std::string> seed_file(const model::Vm& vm) override { return vm.seed_volume; }
  std::string serial_log(const model::Vm&) override { return ""; }
  std::string accelerator() override { return "hyperv"; }
};

std::vector<const model::Team*> teams_in(const model::Lab& lab, const plan::Scope& scope) {
  std::vector<const model::Team*> teams;
  for (const model::Team& team : lab.teams) {
    if (scope.covers(team.name)) {
      teams.push_back(&team);
    }
  }
  return teams;
}

// The scripts a scripted backend (Hyper-V) would run for the plan, and the actions it could
// not script.
void script_plan(const model::Lab& lab, const std::string& uri, hv::ScriptedDryRun& dry,
                 HostPlan& out) {
  NoFiles files;
  sys::RecordingReporter quiet;
  const apply::Outcome outcome = apply::apply(lab, out.plan, *dry.hypervisor, files, quiet, {});
  out.scripts = dry.scripts();
  if (!outcome.ok()) {
    std::string message = fmt::format("{}: {} actions cannot be scripted:", uri, outcome.failed);
    for (const std::string& error : outcome.errors) {
      message += "\n  " + error;
    }
    out.scripted = Error::failure(message);
  }
}

Status write_known_hosts(const sys::StateDir& state, const std::vector<const model::Vm*>& vms) {
  std::vector<sys::KnownHost> known;
  for (const model::Vm* vm : vms) {
    for (const model::Nic& nic : vm->nics) {
      if (!nic.ip.empty()) {
        known.push_back({nic.ip, vm->name});
      }
    }
  }
  return state.write_known_hosts(known);
}

std::vector<const model::Vm*> vms_of(const std::vector<const model::Team*>& teams) {
  std::vector<const model::Vm*> vms;
  for (const model::Team* team : teams) {
    for (const model::Vm& vm : team->vms) {
      vms.push_back(&vm);
    }
  }
  return vms;
}

}  // namespace

plan::Scope scope_of_teams(const model::Lab& lab, const std::vector<const model::Team*>& teams,
                           bool all) {
  plan::Scope scope;
  for (const model::Team* team : teams) {
    scope.teams.push_back(team->name);
  }
  scope.all = all && teams.size() == lab.teams.size();
  return scope;
}

std::size_t DownPlan::size() const {
  std::size_t n = state.remove.size();
  for (const HostDown& host : hosts) {
    n += host.plan.actions.size();
  }
  return n;
}

Session::Session(model::Lab& lab, Options options, Connect connect)
    : m_lab(lab),
      m_options(options),
      m_connect(std::move(connect)),
      m_quiet(sys::make_reporter(sys::ReportStyle::quiet)),
      m_reporter(m_quiet.get()) {}

Result<hv::Hypervisor*> Session::hypervisor(const std::string& uri) {
  if (auto it = m_hypervisors.find(uri); it != m_hypervisors.end()) {
    return it->second.get();
  }
  auto opened = m_connect(uri);
  if (!opened) {
    return opened.error();
  }
  hv::Hypervisor* raw = opened->get();
  m_hypervisors[uri] = std::move(*opened);
  return raw;
}

Result<const sys::StateDir*> Session::state() const {
  if (!m_state) {
    return Error::failure("the classroom's state directory is not open");
  }
  return &*m_state;
}

Result<HostPlan> Session::plan_host(const std::string& uri, const plan::Scope& scope) {
  auto dry = hv::open_dry_run(uri);
  auto hypervisor = this->hypervisor(uri);
  auto inventory = hypervisor ? (*hypervisor)->inventory(m_lab.classroom)
                              : Result<hv::Inventory>(hypervisor.error());
  const bool reached = inventory.ok();
  HostPlan out;
  if (!inventory && dry) {
    // A scripted backend (Hyper-V) can still show what it would run on an empty host.
    out.unreached = inventory.error().message;
    inventory = dry->hypervisor->inventory(m_lab.classroom);
  }
  if (!inventory) {
    return inventory.error();
  }
  out.plan = plan::plan_up(m_lab, *inventory, scope);
  if (reached && (!out.plan.empty() || !out.plan.conflicts.empty())) {
    // What `up` would refuse before creating anything.
    out.checks = check_host(m_lab, teams_in(m_lab, scope), **hypervisor, *inventory, out.plan, uri,
                            m_options);
  }
  if (out.checks && dry && !out.plan.empty()) {
    script_plan(m_lab, uri, *dry, out);  // libvirt has none: its plan is the dry run
  }
  return out;
}

Result<HostWork> Session::prepare_host(const HostTeams& host, bool all) {
  HostWork work{host.uri, host.teams, nullptr, {}, {}};
  auto hypervisor = this->hypervisor(host.uri);
  if (!hypervisor) {
    return hypervisor.error();
  }
  work.hypervisor = *hypervisor;
  auto inventory = work.hypervisor->inventory(m_lab.classroom);
  if (!inventory) {
    return inventory.error();
  }
  work.inventory = std::move(*inventory);
  work.plan = plan::plan_up(m_lab, work.inventory, scope_of_teams(m_lab, host.teams, all));
  if (auto st = check_host(m_lab, host.teams, *work.hypervisor, work.inventory, work.plan, host.uri,
                           m_options);
      !st) {
    return st.error();
  }
  return work;
}

Result<std::vector<HostWork>> Session::prepare_up(const std::vector<HostTeams>& hosts, bool all) {
  std::vector<HostWork> works;
  std::string failures;
  for (const HostTeams& host : hosts) {
    auto work = prepare_host(host, all);
    if (!work) {
      failures += "\n  " + work.error().message;  // each check's message names the host
    } else {
      works.push_back(std::move(*work));
    }
  }
  if (!failures.empty()) {
    return Error::failure("up refused, nothing was changed:" + failures);
  }
  return works;
}

Status Session::open_classroom() {
  auto state = sys::StateDir::open(m_lab.classroom);
  if (!state) {
    return state.error();
  }
  auto identity = claim_identity(m_lab, *state, m_options.adopt);
  if (!identity) {
    return identity.error();
  }
  m_lab.identity = *identity;
  m_state = std::move(*state);
  return {};
}

Status Session::converge_host(HostWork& work, std::vector<ready::VmReadiness>& results) {
  auto state = this->state();
  if (!state) {
    return state.error();
  }
  hv::Hypervisor& hypervisor = *work.hypervisor;
  if (auto st = m_options.adopt ? adopt_objects(m_lab, hypervisor, work.inventory, *m_reporter)
                                : Status();
      !st) {
    return st;
  }
  m_reporter->report({"", "", "host " + work.uri, sys::EventState::info,
                      fmt::format("{} actions; accelerator {}", work.plan.actions.size(),
                                  plan::choose_accelerator(m_lab, hypervisor.capabilities()))});
  if (auto st = apply_plan(m_lab, **state, hypervisor, work.plan, m_options, *m_reporter); !st) {
    return st;
  }
  const std::vector<const model::Vm*> vms = vms_of(work.teams);
  if (auto st = write_known_hosts(**state, vms); !st) {
    return st;
  }
  if (!m_options.no_wait) {
    auto host_results = bring_up_guests(m_lab, **state, hypervisor, vms, m_options, *m_reporter);
    results.insert(results.end(), host_results.begin(), host_results.end());
  }
  return {};
}

UpResult Session::converge(std::vector<HostWork>& hosts) {
  UpResult out;
  for (HostWork& work : hosts) {
    if (auto st = converge_host(work, out.results); !st) {
      out.failures += fmt::format("\n  {}: {}", work.uri, st.error().message);
    }
  }
  return out;
}

Result<std::vector<ready::VmReadiness>> Session::reset(const std::string& uri,
                                                       const model::Team& team,
                                                       const std::string& vm_key,
                                                       const std::vector<const model::Vm*>& vms) {
  auto state = this->state();
  auto hypervisor = state ? this->hypervisor(uri) : Result<hv::Hypervisor*>(state.error());
  auto identity = hypervisor ? claim_identity(m_lab, **state, m_options.adopt)
                             : Result<std::string>(hypervisor.error());
  auto inventory = identity ? (*hypervisor)->inventory(m_lab.classroom)
                            : Result<hv::Inventory>(identity.error());
  if (!inventory) {
    return inventory.error();
  }
  m_lab.identity = *identity;
  const plan::Plan plan = plan::plan_reset(m_lab, *inventory, team.name, vm_key);
  if (auto st = plan::refuse_conflicts(plan.conflicts, uri, m_options.adopt); !st) {
    return st.error();
  }
  if (auto st =
          m_options.adopt ? adopt_objects(m_lab, **hypervisor, *inventory, *m_reporter) : Status();
      !st) {
    return st.error();
  }
  if (auto st = apply_plan(m_lab, **state, **hypervisor, plan, m_options, *m_reporter); !st) {
    return st.error();
  }
  if (m_options.no_wait) {
    return std::vector<ready::VmReadiness>{};
  }
  return bring_up_guests(m_lab, **state, **hypervisor, vms, m_options, *m_reporter);
}

Result<DownPlan> Session::prepare_down(const HostChoice& hosts, const plan::Scope& scope, bool all,
                                       bool purge) {
  auto identity = read_identity(m_lab, m_options.adopt);
  if (!identity) {
    return identity.error();
  }
  m_lab.identity = *identity;
  auto uris = down_hosts(hosts, m_lab, scope, all);
  if (!uris) {
    return uris.error();
  }
  DownPlan plan = plan_down(*uris, scope, all, purge);
  // A directory that only a writer's lock made is no classroom's state: not listed, it goes
  // anyway (sys::StateDir::forget_if_lock_only).
  if (auto state = this->state(); state && !(*state)->holds_state()) {
    plan.state = {};
  }
  return plan;
}

Result<sys::StateDir> down_state_dir(const std::string& classroom) {
  auto found = sys::StateDir::open_read_only(classroom);
  if (found && found->holds_state()) {
    return sys::StateDir::open(classroom);
  }
  return found;
}

DownPlan Session::plan_down(const std::vector<std::string>& uris, const plan::Scope& scope,
                            bool all, bool purge) {
  DownPlan out;
  for (const std::string& uri : uris) {
    auto hypervisor = this->hypervisor(uri);
    auto inventory = hypervisor ? (*hypervisor)->inventory(m_lab.classroom)
                                : Result<hv::Inventory>(hypervisor.error());
    if (!inventory) {
      out.failures += fmt::format("\n  {}: {}", uri, inventory.error().message);
      continue;
    }
    plan::Plan plan = plan::plan_down(m_lab, *inventory, scope);
    // Another lab file's objects (same classroom name) are not this one's to delete.
    if (auto st = plan::refuse_conflicts(plan.conflicts, uri, m_options.adopt); !st) {
      out.refused += "\n  " + st.error().message;
      out.refused_hosts.push_back({uri, *hypervisor, std::move(plan)});
      continue;
    }
    out.hosts.push_back({uri, *hypervisor, std::move(plan)});
  }
  auto state = this->state();
  if (all && state && out.failures.empty() && out.refused.empty()) {
    out.state = (*state)->removal(!purge);
  }
  return out;
}

Status Session::down(const DownPlan& plan, bool all) {
  auto state = this->state();
  if (!state) {
    return state.error();
  }
  std::string failures = plan.failures;
  for (const HostDown& host : plan.hosts) {
    if (auto st = host.plan.empty() ? Status()
                                    : apply_plan(m_lab, **state, *host.hypervisor, host.plan,
                                                 m_options, *m_reporter);
        !st) {
      failures += fmt::format("\n  {}: {}", host.uri, st.error().message);
    }
  }
  if (!failures.empty()) {
    return Error::failure("down failed:" + failures +
                          (all ? "\n  the state directory is kept" : ""));
  }
  return (*state)->remove_paths(plan.state.remove);
}

Result<std::vector<std::string>> down_hosts(const HostChoice& hosts, const model::Lab& lab,
                                            const plan::Scope& scope, bool all) {
  auto groups = teams_by_host(hosts, lab, scope);
  if (!groups) {
    return groups.error();
  }
  std::vector<std::string> uris;
  for (const auto& group : *groups) {
    uris.push_back(group.uri);
  }
  if (all && hosts.connect.empty()) {
    for (const model::Host& host : lab.hosts) {
      if (std::find(uris.begin(), uris.end(), host.uri) == uris.end()) {
        uris.push_back(host.uri);
      }
    }
  }
  if (all && uris.empty()) {
    auto uri = host_uri(hosts, lab);  // no team: the default host, nothing read
    if (!uri) {
      return uri.error();
    }
    uris.push_back(*uri);
  }
  return uris;
}

}  // namespace labctl::converge
