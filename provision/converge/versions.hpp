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

// The versions to offer for a new instance (the web console's list): the classroom's cached
// tags of the Squash TM image when a registry of version_registries answers (the first that
// does), and the lab file's and recorded instances' versions; sorted as versions, newest first.
std::vector<std::string> offered_versions(const model::Lab& lab,
                                          const std::vector<std::string>& in_use);

}  // namespace labctl::converge
