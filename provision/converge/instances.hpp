#pragma once

// One VM's Squash TM instances during class, as `labctl squash add|rm|upgrade|ls` (and a web
// console) run them: the checks of a new instance (the lab file's rules, from
// model/instance_rules.hpp: name charset, version pattern, port range and uniqueness, the
// VM's memory budget, the next free port from 8081), its image (a missing tag is refused with
// the nearest ones; a stand-in classroom gets its stand-in built first), and the operations
// through a squashtm::Remote that record their outcome in state.json only once the VM has
// done them, so that `up` and `reset` deploy the same instances again.

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "provision/converge/notify.hpp"
#include "provision/model/access.hpp"
#include "provision/model/lab.hpp"
#include "provision/plan/plan.hpp"
#include "provision/result.hpp"
#include "provision/sys/state.hpp"
#include "stacks/squashtm/health.hpp"
#include "stacks/squashtm/lifecycle.hpp"
#include "stacks/squashtm/remote.hpp"

namespace labctl::converge {

struct NewInstanceArgs {
  std::string name;     // "" = derived from the version: "v6-1-0" (then "v6-1-0-2", ...)
  std::string version;  // required
  int port = 0;         // 0 = the next free port from 8081
  model::DbKind db = model::DbKind::postgresql;
  std::string image = "squashtest/squash-tm";      // the lab's squashtm.image
  model::Bytes memory = model::k_instance_memory;  // the lab's squashtm.memory
};

// The instance to add to `vm`, which already runs `existing`; a usage error says what is wrong.
Result<model::Instance> new_instance(const model::Vm& vm,
                                     const std::vector<model::Instance>& existing,
                                     const NewInstanceArgs& args);

// "postgresql", "mariadb" or "h2" (`squash add --db`, the console's form); else a usage error.
Result<model::DbKind> db_kind(const std::string& db);

// The lab file's version pattern: "6.0.0", "1.22.2.RELEASE", "7.1.0-RC1".
Status check_version(const std::string& version);

// One VM of the classroom, with the classroom's state directory.
struct VmRef {
  const model::Lab& lab;
  const sys::StateDir& state;
  const model::Vm& vm;
};

// Starts `instance` (checked by new_instance) through Lifecycle::add, then records it. When
// the add fails nothing is recorded (Lifecycle::add removes what it had started).
Status add_recorded(squashtm::Remote& remote, const VmRef& at, const model::Instance& instance);

// Removes the instance `name` through Lifecycle::rm, then records the removal.
Status rm_recorded(squashtm::Remote& remote, const VmRef& at, const std::string& name,
                   bool keep_data);

struct Upgraded {
  squashtm::UpgradeResult result;
  std::filesystem::path dump;  // <state>/dumps/<vm>-<instance>-<from>-<UTC time>.sql|.tar, 0600
};

// Moves the recorded `instance` to `version` through Lifecycle::upgrade, stores the dump it
// returns, then records the new version (so that `up` does not go back to the old one).
Result<Upgraded> upgrade_recorded(squashtm::Remote& remote, const VmRef& at,
                                  model::Instance instance, const std::string& version, bool force);

// A shell on the VM, as root, for the stack's commands.
struct InstanceTarget;
using OpenRemote =
    std::function<Result<std::unique_ptr<squashtm::Remote>>(const InstanceTarget& target)>;

// One VM of the lab file with the classroom's state directory and what state.json records.
struct InstanceTarget {
  model::Lab lab;
  const model::Vm* vm = nullptr;  // into `lab`: its vectors keep their buffers when moved
  sys::StateDir state;
  sys::ClassroomState current;
  // How the operations reach the VM: unset, labctl's SSH to it (guest_ssh.hpp); set by a
  // test whose VM has no guest (libvirt's test driver).
  OpenRemote open_remote;

  // The lab file's instances, plus those added, minus those removed.
  std::vector<model::Instance> instances() const;
  std::string where() const { return vm->team + "/" + vm->key; }
  VmRef ref() const { return {lab, state, *vm}; }
};

// `vm` (into `lab`) with its classroom's state directory, which must exist (`up` made it).
Result<InstanceTarget> open_target(model::Lab lab, const model::Vm* vm);

// The recorded instance `name`; a usage error names the VM's instances.
Result<model::Instance> recorded_instance(const InstanceTarget& target, const std::string& name);

// The instance's URL on the VM's first address: "http://10.61.3.12:8081/squash".
std::string instance_url(const model::Vm& vm, int port);

// The instance's image exists (a missing tag is refused with the nearest ones); a stand-in
// classroom gets the version's stand-in built first (any version has one).
Status image_ready(const Notify& notify, const model::Lab& lab, const model::Instance& instance);

// `squash add`: checks the new instance and its image before the VM is touched, then starts
// and records it.
Result<model::Instance> add_instance(const Notify& notify, const InstanceTarget& target,
                                     const NewInstanceArgs& args);

// `squash rm`: the recorded instance `name`, its data too unless `keep_data`.
Status remove_instance(const InstanceTarget& target, const std::string& name, bool keep_data);

// `squash upgrade`: the recorded instance `name` to `version` (its image checked first).
struct UpgradedInstance {
  model::Instance instance;  // as it was before
  Upgraded upgraded;
};
Result<UpgradedInstance> upgrade_instance(const Notify& notify, const InstanceTarget& target,
                                          const std::string& name, const std::string& version,
                                          bool force);

// One instance as `squash ls` shows it: what state.json records and what the VM runs, merged
// by name.
struct InstanceRow {
  std::string team, vm, name, version, url, state = "absent", docker_health;
  std::string detail;  // why the VM could not be listed
  int port = 0;
  std::optional<model::Endpoint> published;  // students' access (`access:`)
  std::chrono::seconds uptime{0};
  int restarts = 0;
  bool is_recorded = false;  // in the lab file or recorded by `squash add`
  bool standin = false;      // the classroom runs the stand-in stack (`up --standin`)
  squashtm::Health health;
};

// Every instance of the scope's VMs, in lab order and by port on each VM; each VM is asked
// over its own SSH session, all at once, and each instance's health probed.
Result<std::vector<InstanceRow>> list_instances(const model::Lab& lab, const plan::Scope& scope);

}  // namespace labctl::converge
