#pragma once

// The container images a lab needs, and who uses each: every instance's Squash TM image at
// its version, its database's image, the reverse proxy and autoheal images when enabled.
// Pure: from the model only.

#include <string>
#include <vector>

#include "provision/model/lab.hpp"
#include "provision/registry/reference.hpp"
#include "provision/result.hpp"

namespace labctl::registry {

struct ImageUse {
  Reference ref;
  std::vector<std::string> users;  // "team1/vm1/main"
  std::vector<ErrorSite> sites;    // instance `version` keys naming it (Squash TM images)
};

struct LabImageOptions {
  std::vector<std::string> teams;  // empty: every team
  bool proxy = false;              // the stack's reverse proxy is enabled
  bool autoheal = false;           // the stack's autoheal container is enabled
};

// In order of first use.
Result<std::vector<ImageUse>> lab_images(const model::Lab& lab,
                                         const LabImageOptions& options = {});

// The database image of an instance's database kind; nullptr for h2 (inside the application).
const char* db_image(model::DbKind db);

// The Squash TM image of one instance: "<instance.image>:<instance.version>".
Result<Reference> squash_image(const model::Instance& instance);

}  // namespace labctl::registry
