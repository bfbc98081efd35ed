#pragma once

// Small helpers for writing compose YAML by hand: quoting, maps and ownership labels.

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "provision/model/lab.hpp"
#include "stacks/squashtm/render.hpp"

namespace labctl::squashtm {

using Labels = std::map<std::string, std::string>;

// A YAML double-quoted scalar (also safe for compose: '$' is doubled to stop interpolation).
std::string yaml_quote(const std::string& value);

// "key: "value"" lines at `indent` spaces, in the given order.
std::string render_map(const std::vector<std::pair<std::string, std::string>>& entries, int indent);
std::string render_labels(const Labels& labels, int indent);

Labels owner_labels(const Owner& owner);
// Owner labels plus instance, version and what `ls` needs to rebuild the Instance.
Labels instance_labels(const Owner& owner, const model::Instance& instance);

}  // namespace labctl::squashtm
