#pragma once

// The host's classroom registry as `up` and `down` use it (provision/registry/supervise.hpp):
// `up` starts it before creating any VM when the classroom needs it, and records the
// classroom in <cache>/registry/users/; `down --all` removes that record and stops the
// registry when it was the last classroom using it (its cached layers stay).

#include "provision/cli/common.hpp"
#include "provision/registry/supervise.hpp"

namespace labctl::cli {

// The lab's registry: settings (address, port, upstream).
registry::Settings registry_settings(const model::Lab& lab);

// The classroom registry is used and some VM of the scope runs Squash TM instances.
bool registry_needed(const model::Lab& lab, const plan::Scope& scope);

// Before anything changes: a registry running with other settings refuses `up`.
Status check_registry_for_up(const model::Lab& lab, const plan::Scope& scope);

// Starts it (or finds it running) and records the classroom as a user. A registry that
// cannot start is a warning: the VMs' Docker then pulls from the upstream itself (a mirror
// that does not answer is skipped), so `up` goes on.
void start_registry_for_up(const GlobalOptions& global, const model::Lab& lab,
                           const plan::Scope& scope);

// `down --all`: forgets the classroom and stops the registry when it was the last user.
void release_registry(const GlobalOptions& global, const model::Lab& lab);

}  // namespace labctl::cli
