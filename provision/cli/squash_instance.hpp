#pragma once

// What `labctl squash add|rm|upgrade` do to one VM, below the command line so that tests can
// drive them: the checks of a new instance (the lab file's rules, from
// model/instance_rules.hpp: name charset, version pattern, port range and uniqueness, the
// VM's memory budget, the next free port from 8081),
// and the operations through a squashtm::Remote that record their outcome in state.json only
// once the VM has done them.

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "provision/model/lab.hpp"
#include "provision/model/result.hpp"
#include "provision/sys/state.hpp"
#include "stacks/squashtm/lifecycle.hpp"
#include "stacks/squashtm/remote.hpp"

namespace labctl::cli {

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

}  // namespace labctl::cli
