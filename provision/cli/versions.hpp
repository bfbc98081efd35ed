#pragma once

// Versions are checked before anything is created: `plan`, `up` and `squash add` resolve each
// Squash TM image:tag against the classroom registry when it answers, else the upstream.
// A missing tag is a lab-file error at the instance's `version` key with the nearest tags;
// when no registry answers, a warning, and the command goes on.

#include <string>
#include <vector>

#include "provision/cli/common.hpp"
#include "provision/registry/reference.hpp"

namespace labctl::cli {

// $LABCTL_REGISTRY (default http://10.255.255.1:5000, the classroom registry), then
// $LABCTL_UPSTREAM (default https://registry-1.docker.io).
std::vector<std::string> version_registries();

// The Squash TM images of the scope's instances.
Status check_versions(const GlobalOptions& global, const model::Lab& lab, const plan::Scope& scope);

// One image (`squash add --version`): a missing tag is a usage error with the nearest tags.
Status check_version_of(const GlobalOptions& global, const registry::Reference& ref);

}  // namespace labctl::cli
