#pragma once

// Versions are checked before anything is created: `plan`, `up` and `squash add` resolve each
// Squash TM image:tag against the classroom registry when it answers, else the upstream.
// A missing tag is a lab-file error at the instance's `version` key with the nearest tags;
// when no registry answers, a warning, and the command goes on.

#include <string>
#include <vector>

#include "provision/converge/notify.hpp"
#include "provision/model/lab.hpp"
#include "provision/plan/plan.hpp"
#include "provision/registry/reference.hpp"

namespace labctl::converge {

// Where versions are resolved, in order: the classroom registry (or the lab's outside
// mirror), then its upstream (the stand-in registry for a stand-in classroom).
// $LABCTL_REGISTRY and $LABCTL_UPSTREAM replace them (tests point both at a closed port).
std::vector<std::string> version_registries(const model::Lab& lab, bool standin);

// The Squash TM images of the scope's instances.
Status check_versions(const Notify& notify, const model::Lab& lab, const plan::Scope& scope,
                      bool standin);

// One image (`squash add --version`): a missing tag is a usage error with the nearest tags.
Status check_version_of(const Notify& notify, const model::Lab& lab, bool standin,
                        const registry::Reference& ref);

}  // namespace labctl::converge
