#pragma once

// Operations on one VM's Squash TM instances through a Remote: deploy, add, rm, ls, upgrade.
// Each instance is its own compose project; an operation never touches another instance.
// Every command is built with sh_quote() from validated names.

#include <functional>
#include <string>
#include <vector>

#include "provision/model/lab.hpp"
#include "provision/result.hpp"
#include "stacks/squashtm/inspect.hpp"
#include "stacks/squashtm/remote.hpp"
#include "stacks/squashtm/render.hpp"

namespace labctl::squashtm {

struct UpgradeResult {
  std::string from_version;
  std::string to_version;
  std::string dump_kind;  // "pg_dump" (SQL), "mariadb-dump" (SQL) or "h2-tar" (tar of the data)
  std::string dump;       // the caller stores it in the classroom's state directory
};
// Called with the dump before anything changes; when it fails, the upgrade stops there.
using KeepDump = std::function<Status(const UpgradeResult&)>;

class Lifecycle {
 public:
  // `vm` gives the memory cap and the host name; its instance list is not used.
  Lifecycle(Remote& remote, Owner owner, model::Vm vm, StackOptions options);

  // Writes shared.env and every instance, starts them (and the proxy/autoheal if enabled).
  Status deploy(const std::vector<model::Instance>& instances, const Secrets& secrets);
  // Starts one more instance; refuses a used name or port, or more than the VM can hold.
  // When it fails to start, its containers, volumes and files are removed again.
  Status add(const model::Instance& instance, const std::string& password);
  // Removes the instance's containers and network, its volume unless keep_data, its files.
  Status rm(const std::string& name, bool keep_data);
  Result<std::vector<InstanceStatus>> ls();
  // Dumps the database, hands the dump to `keep`, then recreates only the app container on
  // `version`. Refuses a downgrade unless `force` (Squash TM migrates its schema one way).
  Result<UpgradeResult> upgrade(const std::string& name, const std::string& version, bool force,
                                const KeepDump& keep = {});

  // Removes every container, volume and network of this VM's stack carrying our labels
  // (or only `instance`'s): the fallback when compose files are gone, and test cleanup.
  Status sweep(const std::string& instance = "");

 private:
  Status check_addable(const model::Instance& instance,
                       const std::vector<InstanceStatus>& existing) const;
  Status put_all(const std::vector<File>& files);
  Status run_all(const std::vector<std::string>& commands);
  Status refresh_proxy(const std::vector<model::Instance>& instances);
  Result<std::string> dump_of(const InstanceStatus& current, std::string& kind);

  Remote& m_remote;
  Owner m_owner;
  model::Vm m_vm;
  StackOptions m_options;
};

}  // namespace labctl::squashtm
