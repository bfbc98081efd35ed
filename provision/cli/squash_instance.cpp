#include "provision/cli/squash_instance.hpp"

#include <algorithm>
#include <chrono>
#include <regex>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "provision/apply/guest.hpp"
#include "provision/apply/stack_secrets.hpp"
#include "provision/model/instance_rules.hpp"
#include "provision/model/names.hpp"
#include "provision/model/size.hpp"

namespace labctl::cli {

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
  auto recorded = at.state.update_state([&](auto& s) { apply::record_added(s, at.vm, instance); });
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
  if (auto st = at.state.update_state([&](auto& s) { apply::record_removed(s, at.vm, name); });
      !st) {
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
  auto recorded = at.state.update_state([&](auto& s) { apply::record_added(s, at.vm, instance); });
  if (!recorded) {
    return Error::failure(
        fmt::format("'{}' now runs {}, but: {}", instance.name, version, recorded.error().message));
  }
  return Upgraded{std::move(*result), kept};
}

}  // namespace labctl::cli
