#pragma once

// The host's classroom registry as `up`, `down` and `labctl images` use it
// (provision/registry/supervise.hpp): `up` starts it before creating any VM when the
// classroom needs it, and records the classroom in <cache>/registry/users/; `down --all`
// removes that record and stops the registry when it was the last classroom using it (its
// cached layers stay).

#include <string>
#include <vector>

#include "provision/converge/notify.hpp"
#include "provision/model/lab.hpp"
#include "provision/plan/plan.hpp"
#include "provision/registry/supervise.hpp"

namespace labctl::converge {

// Where the registry keeps its files: $LABCTL_REGISTRY_CACHE, else the image cache
// directory ($LABCTL_CACHE_DIR, else ~/.cache/labctl); the registry's own are under registry/.
std::string registry_cache_dir();

// The lab's registry: settings (address, port, upstream). A classroom brought up with
// `--standin` (recorded in its state) caches the host's stand-in registry (standin.hpp)
// instead of the lab's upstream.
// A state that cannot be read is an error naming the file.
Result<registry::Settings> registry_settings(const model::Lab& lab);
registry::Settings registry_settings(const model::Lab& lab, bool standin);

// `labctl registry`'s flags over the lab's settings ("", 0: the lab's).
struct RegistryOverrides {
  std::string address;
  int port = 0;
  std::string upstream;
  bool offline = false;  // no upstream: the cache alone
};

// The lab file's registry: settings (the defaults when there is no lab file, `lab` null),
// then the overrides; settings registry::check_settings refuses are a usage error.
Result<registry::Settings> registry_settings_for(const model::Lab* lab,
                                                 const RegistryOverrides& overrides);

// What `labctl registry status` shows: its state (GET /v2/), files and the classrooms using it.
struct RegistryReport {
  registry::State state;
  registry::Paths paths;
  std::vector<std::string> users;
};
RegistryReport registry_report(const registry::Settings& settings);

// It runs at the settings' address and port without an upstream: an offline classroom's
// registry, serving what its cache holds. Accepted where the settings name an upstream.
bool serves_cache_of(const registry::State& state, const registry::Settings& settings);

// Starts the registry (or finds it running). When its upstream does not answer
// (docker-registry 2.8 does not start in proxy mode then), it serves its cache alone, with a
// warning: a classroom without internet works from a loaded bundle with the same lab file.
Result<registry::StartReport> start_classroom_registry(const Notify& notify,
                                                       const registry::Settings& settings);

// The lab uses a classroom registry: a usage error otherwise (`labctl images`).
Status check_classroom_registry(const model::Lab& lab);
// The classroom registry, started when it does not run yet (`labctl images`).
Result<registry::Settings> running_registry(const Notify& notify, const model::Lab& lab);

// The classroom registry is used and some VM of the scope runs Squash TM instances.
bool registry_needed(const model::Lab& lab, const plan::Scope& scope);

// Before anything changes: a registry running with other settings refuses `up`.
Status check_registry_for_up(const model::Lab& lab, const plan::Scope& scope, bool standin);

// Starts it (or finds it running) and records the classroom as a user. A registry that
// cannot start is a warning: the VMs' Docker then pulls from the upstream itself (a mirror
// that does not answer is skipped), so `up` goes on.
void start_registry_for_up(const Notify& notify, const model::Lab& lab, const plan::Scope& scope,
                           bool standin);

// `down --all`: forgets the classroom and stops the registry when it was the last user.
void release_registry(const Notify& notify, const model::Lab& lab);

}  // namespace labctl::converge
