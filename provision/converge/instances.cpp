#include "provision/converge/instances.hpp"

#include <algorithm>
#include <chrono>
#include <regex>
#include <thread>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "provision/apply/stack_secrets.hpp"
#include "provision/converge/guest_ssh.hpp"
#include "provision/converge/standin.hpp"
#include "provision/converge/versions.hpp"
#include "provision/model/instance_rules.hpp"
#include "provision/model/names.hpp"
#include "provision/model/size.hpp"
#include "provision/ready/stages.hpp"
#include "provision/registry/lab_images.hpp"
#include "provision/sys/http.hpp"

namespace labctl::converge {

namespace {

const model::Instance* find_by(const std::vector<model::Instance>& instances, auto matches) {
  auto it = std::find_if(instances.begin(), instances.end(), matches);
  return it == instances.end() ? nullptr : &*it;
}

Status check_port(const model::Vm& vm, const std::vector<model::Instance>& existing, int port) {
  if (std::string complaint = model::port_range_complaint(port); !complaint.empty()) {
    return Error::usage(complaint);
  }
  if (const auto* other = find_by(existing, [&](const auto& i) { return i.port == port; })) {
    return Error::usage(model::port_taken_complaint(port, other->name, vm.name));
  }
  return {};
}

Status check_budget(const model::Vm& vm, const std::vector<model::Instance>& all) {
  if (model::stack_fits(vm, all)) {
    return {};
  }
  return Error::usage(fmt::format(
      "VM {}: its Squash TM stack would need more than its {}: {} (remove an instance first, or "
      "use --db h2)",
      vm.name, model::format_size(vm.memory), model::explain_footprint(all)));
}

squashtm::Lifecycle lifecycle_for(squashtm::Remote& remote, const VmRef& at) {
  return squashtm::Lifecycle(remote, squashtm::owner_of(at.lab.classroom, at.vm), at.vm,
                             squashtm::stack_options(at.lab));
}

Result<std::filesystem::path> store_dump(const VmRef& at, const std::string& name,
                                         const squashtm::UpgradeResult& result) {
  const std::filesystem::path dir = at.state.dir() / "dumps";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
  if (ec) {
    return Error::failure(fmt::format("{}: {}", dir.string(), ec.message()));
  }
  const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  const std::filesystem::path path =
      dir / fmt::format("{}-{}-{}-{:%Y%m%dT%H%M%SZ}.{}", at.vm.name, name, result.from_version, now,
                        result.dump_kind == "h2-tar" ? "tar" : "sql");
  if (auto st = sys::write_file_atomic(path, result.dump, 0600); !st) {
    return st.error();
  }
  return path;
}

}  // namespace

Result<model::DbKind> db_kind(const std::string& db) {
  if (db == "postgresql") {
    return model::DbKind::postgresql;
  }
  if (db == "mariadb") {
    return model::DbKind::mariadb;
  }
  if (db == "h2") {
    return model::DbKind::h2;
  }
  return Error::usage(fmt::format("--db {}: use postgresql, mariadb or h2", db));
}

Status check_version(const std::string& version) {
  if (std::string complaint = model::check_version(version); !complaint.empty()) {
    return Error::usage(complaint);
  }
  return {};
}

Result<model::Instance> new_instance(const model::Vm& vm,
                                     const std::vector<model::Instance>& existing,
                                     const NewInstanceArgs& args) {
  if (auto st = check_version(args.version); !st) {
    return st.error();
  }
  model::Instance instance;
  instance.name =
      args.name.empty() ? model::default_instance_name(args.version, existing) : args.name;
  if (std::string complaint = model::check_name("instance name", instance.name);
      !complaint.empty()) {
    return Error::usage(complaint);
  }
  if (find_by(existing, [&](const auto& i) { return i.name == instance.name; }) != nullptr) {
    return Error::usage(fmt::format("duplicate instance name '{}' on {}", instance.name, vm.name));
  }
  instance.version = args.version;
  instance.db = args.db;
  instance.image = args.image;
  instance.memory = args.memory;
  instance.port = args.port == 0 ? model::next_free_port(model::ports_of(existing)) : args.port;
  if (auto st = check_port(vm, existing, instance.port); !st) {
    return st.error();
  }
  std::vector<model::Instance> all = existing;
  all.push_back(instance);
  if (auto st = check_budget(vm, all); !st) {
    return st.error();
  }
  return instance;
}

Status add_recorded(squashtm::Remote& remote, const VmRef& at, const model::Instance& instance) {
  auto secrets = apply::stack_secrets(at.state, at.vm, {instance});
  if (!secrets) {
    return secrets.error();
  }
  if (auto st = lifecycle_for(remote, at).add(instance, secrets->at(instance.name)); !st) {
    return st;
  }
  auto recorded = at.state.update_state([&](auto& s) { s.record_added(at.vm, instance); });
  if (!recorded) {
    return Error::failure(fmt::format("'{}' runs on {} but was not recorded: {}", instance.name,
                                      at.vm.name, recorded.error().message));
  }
  return {};
}

Status rm_recorded(squashtm::Remote& remote, const VmRef& at, const std::string& name,
                   bool keep_data) {
  if (auto st = lifecycle_for(remote, at).rm(name, keep_data); !st) {
    return st;
  }
  if (auto st = at.state.update_state([&](auto& s) { s.record_removed(at.vm, name); }); !st) {
    return st;
  }
  // With --keep-data the database volume stays, and it only opens with the same password.
  return keep_data ? Status{} : apply::forget_stack_secret(at.state, at.vm, name);
}

Result<Upgraded> upgrade_recorded(squashtm::Remote& remote, const VmRef& at,
                                  model::Instance instance, const std::string& version,
                                  bool force) {
  if (auto st = check_version(version); !st) {
    return st.error();
  }
  instance.version = version;
  // The dump is stored before the app is recreated: if that fails, the dump is still here.
  std::filesystem::path kept;
  auto keep = [&](const squashtm::UpgradeResult& taken) -> Status {
    auto path = store_dump(at, instance.name, taken);
    if (!path) {
      return path.error();
    }
    kept = *path;
    return {};
  };
  auto result = lifecycle_for(remote, at).upgrade(instance.name, version, force, keep);
  if (!result) {
    if (kept.empty()) {
      return result.error();
    }
    return Error::failure(
        fmt::format("{} (its dump is kept in {})", result.error().message, kept.string()));
  }
  auto recorded = at.state.update_state([&](auto& s) { s.record_added(at.vm, instance); });
  if (!recorded) {
    return Error::failure(
        fmt::format("'{}' now runs {}, but: {}", instance.name, version, recorded.error().message));
  }
  return Upgraded{std::move(*result), kept};
}

std::vector<model::Instance> InstanceTarget::instances() const {
  return current.effective_instances(*vm);
}

Result<InstanceTarget> open_target(model::Lab lab, const model::Vm* vm) {
  auto state = sys::StateDir::open(lab.classroom);
  if (!state) {
    return state.error();
  }
  auto current = state->read_state();
  if (!current) {
    return current.error();
  }
  return InstanceTarget{std::move(lab), vm, *state, *current};
}

Result<model::Instance> recorded_instance(const InstanceTarget& target, const std::string& name) {
  std::string known;
  for (const model::Instance& instance : target.instances()) {
    if (instance.name == name) {
      return instance;
    }
    known += (known.empty() ? "" : ", ") + instance.name;
  }
  return Error::usage(fmt::format("{} has no instance '{}' (instances: {})", target.where(), name,
                                  known.empty() ? "none" : known));
}

std::string instance_url(const model::Vm& vm, int port) {
  return fmt::format("http://{}:{}/squash", ready::vm_address(vm), port);
}

Status image_ready(const Notify& notify, const model::Lab& lab, const model::Instance& instance) {
  auto image = registry::squash_image(instance);
  if (!image) {
    return image.error();
  }
  auto is_standin = classroom_is_standin(lab.classroom);
  if (!is_standin) {
    return is_standin.error();
  }
  const bool standin = *is_standin;
  if (standin) {
    std::vector<registry::Reference> refs{*image};
    const char* db = registry::db_image(instance.db);
    if (db != nullptr) {
      if (auto db_ref = registry::parse_reference(db); db_ref) {
        refs.push_back(*db_ref);
      }
    }
    if (auto st = ensure_standins(notify, lab, refs); !st) {
      return st;
    }
  }
  return check_version_of(notify, lab, standin, *image);
}

namespace {

Result<std::unique_ptr<squashtm::Remote>> remote_of(const InstanceTarget& target) {
  if (target.open_remote) {
    return target.open_remote(target);
  }
  auto remote = connect_remote(target.lab, target.state, *target.vm);
  if (!remote) {
    return remote.error();
  }
  return std::unique_ptr<squashtm::Remote>(std::move(*remote));
}

}  // namespace

Result<model::Instance> add_instance(const Notify& notify, const InstanceTarget& target,
                                     const NewInstanceArgs& args) {
  auto instance = new_instance(*target.vm, target.instances(), args);
  if (!instance) {
    return instance.error();
  }
  // Checked before the VM is touched.
  if (auto st = image_ready(notify, target.lab, *instance); !st) {
    return st.error();
  }
  auto remote = remote_of(target);
  if (!remote) {
    return remote.error();
  }
  if (auto st = add_recorded(**remote, target.ref(), *instance); !st) {
    return st.error();
  }
  return instance;
}

Status remove_instance(const InstanceTarget& target, const std::string& name, bool keep_data) {
  if (auto instance = recorded_instance(target, name); !instance) {
    return instance.error();
  }
  auto remote = remote_of(target);
  if (!remote) {
    return remote.error();
  }
  return rm_recorded(**remote, target.ref(), name, keep_data);
}

Result<UpgradedInstance> upgrade_instance(const Notify& notify, const InstanceTarget& target,
                                          const std::string& name, const std::string& version,
                                          bool force) {
  auto instance = recorded_instance(target, name);
  auto checked = check_version(version);
  if (!instance || !checked) {
    return !instance ? instance.error() : checked.error();
  }
  model::Instance wanted = *instance;
  wanted.version = version;
  if (auto st = image_ready(notify, target.lab, wanted); !st) {
    return st.error();
  }
  auto remote = remote_of(target);
  if (!remote) {
    return remote.error();
  }
  auto done = upgrade_recorded(**remote, target.ref(), *instance, version, force);
  if (!done) {
    return done.error();
  }
  return UpgradedInstance{*instance, std::move(*done)};
}

namespace {

InstanceRow& row_for(std::vector<InstanceRow>& rows, const model::Vm& vm,
                     const model::Instance& instance) {
  for (InstanceRow& row : rows) {
    if (row.name == instance.name) {
      return row;
    }
  }
  rows.push_back(
      {vm.team, vm.key, instance.name, instance.version, instance_url(vm, instance.port)});
  rows.back().port = instance.port;
  return rows.back();
}

void merge_running(std::vector<InstanceRow>& rows, const model::Vm& vm,
                   const std::vector<squashtm::InstanceStatus>& running) {
  for (const squashtm::InstanceStatus& status : running) {
    InstanceRow& row = row_for(rows, vm, status.instance);
    row.version = status.instance.version;  // what runs wins over what was recorded
    row.state = status.state;
    row.docker_health = status.health;
    row.uptime = status.uptime;
    row.restarts = status.restarts;
  }
}

std::vector<InstanceRow> list_vm(const model::Lab& lab, const sys::StateDir& state,
                                 const sys::ClassroomState& current, const model::Vm& vm) {
  std::vector<InstanceRow> rows;
  for (const model::Instance& instance : current.effective_instances(vm)) {
    row_for(rows, vm, instance).is_recorded = true;
  }
  auto remote = connect_remote(lab, state, vm);
  auto running = remote ? squashtm::Lifecycle(**remote, squashtm::owner_of(lab.classroom, vm), vm,
                                              squashtm::StackOptions{})
                              .ls()
                        : Result<std::vector<squashtm::InstanceStatus>>(remote.error());
  if (running) {
    merge_running(rows, vm, *running);
  } else {
    for (InstanceRow& row : rows) {
      row.state = "unreachable";
      row.detail = running.error().message;
    }
  }
  sys::CurlHttpClient http;
  for (InstanceRow& row : rows) {
    row.health = squashtm::probe_health(http, ready::vm_address(vm), row.port,
                                        std::chrono::milliseconds(1500));
    row.standin = current.standin;
    model::Instance instance;
    instance.name = row.name;
    instance.port = row.port;
    row.published = model::instance_endpoint(lab, vm, instance);
  }
  return rows;
}

}  // namespace

Result<std::vector<InstanceRow>> list_instances(const model::Lab& lab, const plan::Scope& scope) {
  auto state = sys::StateDir::open_read_only(lab.classroom);
  auto current = state ? state->read_state() : Result<sys::ClassroomState>(state.error());
  if (!current) {
    return current.error();
  }
  std::vector<const model::Vm*> vms;
  for (const model::Team& team : lab.teams) {
    for (const model::Vm& vm : team.vms) {
      if (scope.covers(team.name)) {
        vms.push_back(&vm);
      }
    }
  }
  std::vector<std::vector<InstanceRow>> per_vm(vms.size());
  {
    std::vector<std::jthread> threads;  // one SSH session per VM, all at once
    for (std::size_t i = 0; i < vms.size(); ++i) {
      threads.emplace_back([&, i] { per_vm[i] = list_vm(lab, *state, *current, *vms[i]); });
    }
  }
  std::vector<InstanceRow> rows;
  for (auto& vm_rows : per_vm) {
    std::sort(vm_rows.begin(), vm_rows.end(),
              [](const InstanceRow& a, const InstanceRow& b) { return a.port < b.port; });
    rows.insert(rows.end(), vm_rows.begin(), vm_rows.end());
  }
  return rows;
}

}  // namespace labctl::converge
