#include "provision/web/console.hpp"

#include <ctime>

#include <fmt/format.h>

#include "provision/converge/reset.hpp"
#include "provision/converge/session.hpp"
#include "provision/converge/status.hpp"
#include "provision/converge/up.hpp"
#include "provision/converge/versions.hpp"
#include "provision/sys/classroom_lock.hpp"
#include "provision/sys/utc.hpp"

namespace labctl::web {

namespace {

const model::Vm* vm_in(const model::Lab& lab, const std::string& team, const std::string& key) {
  const model::Team* t = lab.find_team(team);
  if (t == nullptr) {
    return nullptr;
  }
  for (const model::Vm& vm : t->vms) {
    if (vm.key == key) {
      return &vm;
    }
  }
  return nullptr;
}

std::string describe(const ActionRequest& r) {
  if (r.kind == "add") {
    return fmt::format("add {} to {}/{}", r.version, r.team, r.vm);
  }
  if (r.kind == "remove") {
    return fmt::format("remove {} from {}/{}", r.name, r.team, r.vm);
  }
  if (r.kind == "upgrade") {
    return fmt::format("upgrade {}/{} {} to {}", r.team, r.vm, r.name, r.version);
  }
  if (r.kind == "reset") {
    return fmt::format("reset {}{}", r.team, r.vm.empty() ? "" : "/" + r.vm);
  }
  return fmt::format("{} {}", r.kind, r.team);
}

nlohmann::json action_json(const ActionRecord& a) {
  return {{"id", a.id},           {"kind", a.request.kind},      {"team", a.request.team},
          {"vm", a.request.vm},   {"name", a.request.name},      {"version", a.request.version},
          {"db", a.request.db},   {"what", describe(a.request)}, {"state", a.state},
          {"message", a.message}, {"started", a.started},        {"seconds", a.seconds}};
}

// One instance's open form for a page: as students reach it when published.
nlohmann::json instance_json(const nlohmann::json& instance, bool with_private) {
  nlohmann::json out = {
      {"name", instance.value("name", "")},
      {"version", instance.value("version", "")},
      {"healthy", instance.contains("healthy") ? instance["healthy"] : nlohmann::json()}};
  if (instance.contains("published_url")) {
    out["url"] = instance["published_url"];
    if (with_private) {
      out["private_url"] = instance["url"];
    }
  } else {
    out["url"] = instance["url"];
  }
  return out;
}

// The first VM that did not get ready, as the action's failure.
Status first_failure(const std::vector<ready::VmReadiness>& results) {
  for (const ready::VmReadiness& r : results) {
    if (r.failed != ready::Stage::none) {
      return Error::failure(fmt::format("{}/{}: {}", r.team, r.vm, r.message));
    }
  }
  return {};
}

}  // namespace

Console::Console(model::Lab lab, ConsoleOptions options, EventHub& hub)
    : m_lab(std::move(lab)), m_options(std::move(options)), m_hub(hub) {}

Console::~Console() {
  stop();
}

void Console::start() {
  probe_once();
  m_prober = std::thread([this] { probe_loop(); });
}

void Console::stop() {
  m_stop = true;
  m_wake.notify_all();
  if (m_prober.joinable()) {
    m_prober.join();
  }
  std::vector<std::thread> workers;
  {
    std::lock_guard lock(m_mutex);
    workers.swap(m_workers);
  }
  for (std::thread& worker : workers) {
    worker.join();
  }
}

void Console::refresh() {
  {
    std::lock_guard lock(m_mutex);
    m_refresh = true;
  }
  m_wake.notify_all();
}

void Console::probe_loop() {
  while (!m_stop) {
    {
      std::unique_lock lock(m_mutex);
      m_wake.wait_for(lock, m_options.refresh, [&] { return m_stop.load() || m_refresh; });
      m_refresh = false;
    }
    if (!m_stop) {
      probe_once();
    }
  }
}

void Console::probe_once() {
  auto context = converge::open_status(m_lab, plan::Scope{{}, true});
  auto probed = !context          ? Result<std::vector<converge::StatusRow>>(context.error())
                : m_options.probe ? converge::probe_status(m_options.hosts, *context, &m_stop)
                                  : converge::status_rows(m_options.hosts, *context);
  if (!probed) {
    // The last probe's rows stay on the page, under the reason this one failed.
    const std::string problem = probed.error().message;
    bool changed = false;
    {
      std::lock_guard lock(m_mutex);
      changed = m_problem != problem;
      m_problem = problem;
    }
    if (changed) {
      m_hub.publish("classroom", {{"problem", problem}});
    }
    return;
  }
  nlohmann::json rows = nlohmann::json(converge::status_json(*probed));
  std::vector<std::string> in_use;
  // A VM not probed (absent, or not asked) still lists the instances it is to run.
  for (std::size_t i = 0; i < probed->size() && i < rows.size(); ++i) {
    const model::Vm& vm = *(*probed)[i].vm;
    if (!(*probed)[i].instances.empty()) {
      continue;
    }
    for (const model::Instance& instance : (*probed)[i].recorded) {
      nlohmann::json item = {{"name", instance.name},
                             {"version", instance.version},
                             {"url", converge::instance_url(vm, instance.port)},
                             {"healthy", nullptr}};
      if (auto published = model::instance_endpoint(m_lab, vm, instance)) {
        item["published_url"] = published->student_form(m_lab.admin_user);
      }
      rows[i]["instances"].push_back(item);
    }
  }
  for (const auto& row : rows) {
    for (const auto& instance : row["instances"]) {
      in_use.push_back(instance.value("version", ""));
    }
  }
  std::vector<std::string> versions =
      m_options.probe ? converge::offered_versions(m_lab, in_use) : in_use;
  if (!m_options.probe) {
    std::sort(versions.begin(), versions.end());
    versions.erase(std::unique(versions.begin(), versions.end()), versions.end());
  }
  bool changed = false;
  {
    std::lock_guard lock(m_mutex);
    changed = rows != m_rows || versions != m_versions || !m_problem.empty();
    m_problem.clear();
    m_rows = std::move(rows);
    m_versions = std::move(versions);
    m_probed = sys::utc_now();
  }
  if (changed) {
    m_hub.publish("classroom", {{"probed", m_probed}});
  }
}

nlohmann::json Console::team_view(const nlohmann::json& all, const std::string& team) const {
  nlohmann::json vms = nlohmann::json::array();
  for (const auto& row : all) {
    if (row.value("team", "") != team) {
      continue;
    }
    nlohmann::json instances = nlohmann::json::array();
    for (const auto& instance : row["instances"]) {
      instances.push_back(instance_json(instance, false));
    }
    nlohmann::json vm = {{"vm", row["vm"]},
                         {"state", row["state"]},
                         {"stage", row["stage"]},
                         {"instances", instances}};
    if (row.contains("ssh")) {
      vm["ssh"] = row["ssh"]["command"];
    }
    vms.push_back(vm);
  }
  return {{"name", team}, {"vms", vms}};
}

nlohmann::json Console::classroom(const Viewer& viewer) const {
  std::lock_guard lock(m_mutex);
  nlohmann::json out = {{"classroom", m_lab.classroom},
                        {"title", m_lab.title},
                        {"probed", m_probed},
                        {"problem", m_problem},
                        {"role", viewer.role == Role::team ? "team" : "instructor"}};
  if (viewer.role == Role::team) {
    out["teams"] = nlohmann::json::array({team_view(m_rows, viewer.team)});
    return out;
  }
  nlohmann::json teams = nlohmann::json::array();
  for (const model::Team& team : m_lab.teams) {
    nlohmann::json vms = nlohmann::json::array();
    std::string host;
    for (const auto& row : m_rows) {
      if (row.value("team", "") == team.name) {
        nlohmann::json vm = row;
        nlohmann::json instances = nlohmann::json::array();
        for (const auto& instance : row["instances"]) {
          instances.push_back(instance_json(instance, true));
        }
        vm["instances"] = instances;
        host = row.value("host", "");
        vms.push_back(vm);
      }
    }
    teams.push_back({{"name", team.name}, {"host", host}, {"vms", vms}});
  }
  out["teams"] = teams;
  out["versions"] = m_versions;
  nlohmann::json actions = nlohmann::json::array();
  for (const ActionRecord& a : m_actions) {
    actions.push_back(action_json(a));
  }
  out["actions"] = actions;
  if (auto state = sys::StateDir::open_read_only(m_lab.classroom); state) {
    if (auto holder = sys::ClassroomLock::holder(state->dir())) {
      out["lock"] = holder->text();
    }
  }
  return out;
}

std::vector<ActionRecord> Console::actions() const {
  std::lock_guard lock(m_mutex);
  return m_actions;
}

Result<int> Console::run(const ActionRequest& request) {
  static const std::vector<std::string> kinds = {"add", "remove", "upgrade", "reset", "up", "down"};
  if (std::find(kinds.begin(), kinds.end(), request.kind) == kinds.end()) {
    return Error::usage(fmt::format("no action '{}'", request.kind));
  }
  if (m_lab.find_team(request.team) == nullptr) {
    return Error::usage(fmt::format("no team '{}'", request.team));
  }
  const bool needs_vm =
      request.kind == "add" || request.kind == "remove" || request.kind == "upgrade";
  if ((needs_vm || !request.vm.empty()) && vm_in(m_lab, request.team, request.vm) == nullptr) {
    return Error::usage(fmt::format("team {} has no VM '{}'", request.team, request.vm));
  }
  if ((request.kind == "add" || request.kind == "upgrade")) {
    if (auto st = converge::check_version(request.version); !st) {
      return st.error();
    }
  }
  if (request.kind == "add") {
    if (auto db = converge::db_kind(request.db); !db) {
      return db.error();
    }
  }
  if ((request.kind == "remove" || request.kind == "upgrade") && request.name.empty()) {
    return Error::usage("which instance: no name given");
  }
  ActionRecord record{0, request, "running", "", sys::utc_now(), 0};
  {
    std::lock_guard lock(m_mutex);
    if (m_stop) {
      return Error::failure("the console is stopping");
    }
    record.id = m_next_action++;
    m_actions.push_back(record);
  }
  m_hub.publish("action", action_json(record), request.team);
  const int id = record.id;
  std::lock_guard lock(m_mutex);
  m_workers.emplace_back([this, request, id] {
    const auto began = std::chrono::steady_clock::now();
    Status status = perform(request, id);
    finish(id, status, began);
  });
  return id;
}

void Console::finish(int id, const Status& status, std::chrono::steady_clock::time_point began) {
  ActionRecord done;
  {
    std::lock_guard lock(m_mutex);
    for (ActionRecord& a : m_actions) {
      if (a.id == id) {
        a.state = status ? "done" : "failed";
        a.message = status ? "" : status.error().message;
        a.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
        done = a;
      }
    }
  }
  m_hub.publish("action", action_json(done), done.request.team);
  refresh();
}

Status Console::perform(const ActionRequest& request, int id) {
  HubReporter reporter(m_hub, id);
  auto state_dir = sys::StateDir::open(m_lab.classroom);
  if (!state_dir) {
    return state_dir.error();
  }
  // One writer at a time, the CLI's commands included: the action waits its turn, and the
  // page is told whose turn it is.
  auto lock = sys::ClassroomLock::acquire(
      state_dir->dir(), "labctl serve: " + describe(request), sys::LockWait::wait,
      [&](const sys::LockHolder& holder) {
        reporter.report({request.team, request.vm, "waiting for the classroom lock",
                         sys::EventState::info, holder.text(), 0});
      },
      &m_stop);
  if (!lock) {
    return lock.error();
  }
  Status done = perform_locked(request, reporter, *state_dir);
  state_dir->forget_if_lock_only();  // an action that wrote nothing leaves no directory
  return done;
}

Status Console::perform_locked(const ActionRequest& request, HubReporter& reporter,
                               const sys::StateDir& state_dir) {
  model::Lab lab = m_lab;
  const converge::Notify notify = [&](const std::string& level, const std::string& text) {
    reporter.report({request.team, request.vm, level, sys::EventState::info, text, 0});
  };
  plan::Scope scope{{request.team}, false};
  converge::Options options = m_options.options;
  options.stop = &m_stop;

  if (request.kind == "add" || request.kind == "remove" || request.kind == "upgrade") {
    const model::Vm* vm = vm_in(lab, request.team, request.vm);
    auto target = converge::open_target(std::move(lab), vm);
    if (!target) {
      return target.error();
    }
    target->open_remote = m_options.open_remote;
    if (request.kind == "add") {
      converge::NewInstanceArgs args{request.name,
                                     request.version,
                                     0,
                                     *converge::db_kind(request.db),
                                     target->lab.squash_image,
                                     target->lab.instance_memory};
      auto added = converge::add_instance(notify, *target, args);
      return added ? Status() : Status(added.error());
    }
    if (request.kind == "remove") {
      return converge::remove_instance(*target, request.name, false);
    }
    auto upgraded =
        converge::upgrade_instance(notify, *target, request.name, request.version, false);
    return upgraded ? Status() : Status(upgraded.error());
  }
  if (request.kind == "reset") {
    auto results =
        converge::reset_vms(lab, m_options.hosts, request.team, request.vm, options, reporter);
    return results ? first_failure(*results) : Status(results.error());
  }
  if (request.kind == "up") {
    const converge::UpRequest up{scope, false, false, false, m_options.hosts, options};
    auto checked = converge::check_up(notify, lab, up);
    if (!checked) {
      return checked.error();
    }
    converge::Session session(lab, options);
    auto done = converge::run_up(session, notify, up, *checked,
                                 [&]() -> sys::Reporter& { return reporter; });
    if (!done) {
      return done.error();
    }
    if (!done->failures.empty()) {
      return Error::failure("up failed:" + done->failures);
    }
    return first_failure(done->results);
  }
  // down
  converge::Session session(lab, options);
  session.use_state(state_dir);
  session.report_to(reporter);
  auto down = session.prepare_down(m_options.hosts, scope, false, false);
  if (!down) {
    return down.error();
  }
  if (!down->refused.empty()) {
    return Error::failure("down refused, nothing deleted:" + down->refused);
  }
  return session.down(*down, false);
}

}  // namespace labctl::web
