#pragma once

// Does each image:tag exist on a registry, and if not, which tags are nearest. The registry
// side of "versions are checked before anything is created"; the CLI chooses the registry
// and turns what is missing into lab-file errors.

#include <optional>
#include <string>
#include <vector>

#include "provision/registry/client.hpp"
#include "provision/registry/reference.hpp"
#include "provision/result.hpp"

namespace labctl::registry {

// Orders tags as versions: digit runs numerically, other runs as text ("1.9" < "1.10" <
// "1.10.1" < "6.0.0"). Negative, zero or positive like strcmp.
int compare_versions(const std::string& a, const std::string& b);

// Up to `count` tags that look like versions (start with a digit), nearest to `wanted` in
// version order: half below and half above when there are, in ascending order.
std::vector<std::string> nearest_tags(const std::string& wanted,
                                      const std::vector<std::string>& tags, std::size_t count = 4);

struct MissingImage {
  Reference ref;
  bool repository_missing = false;   // the repository itself is unknown
  std::vector<std::string> nearest;  // existing tags nearest to ref.tag
};

// Each reference that the registry lacks (HEAD of its manifest is a 404), with the nearest
// tags; an Error when the registry could not be asked.
Result<std::vector<MissingImage>> find_missing(Client& client, const std::vector<Reference>& refs);

// "squashtest/squash-tm:1.16 does not exist on URL; nearest tags: 1.19.1, 1.20.0"
std::string describe(const MissingImage& missing, const std::string& registry);

}  // namespace labctl::registry
