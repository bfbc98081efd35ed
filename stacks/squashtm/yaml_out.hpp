#pragma once

// Compose files are built with yaml-cpp's emitter; these helpers add what compose needs beyond
// YAML (no interpolation of '$'), and the ownership labels.

#include <map>
#include <string>
#include <utility>
#include <vector>

#include <yaml-cpp/emitter.h>

#include "provision/model/lab.hpp"
#include "stacks/squashtm/render.hpp"

namespace labctl::squashtm {

using Labels = std::map<std::string, std::string>;
using Entries = std::vector<std::pair<std::string, std::string>>;

// Compose, not YAML: after parsing, compose replaces $VAR and ${VAR} in every value, and reads
// "$$" as one '$'. So each '$' of a value labctl writes is doubled, to reach the container as is.
std::string no_interpolation(const std::string& value);

// A value: '$' doubled, and double-quoted whatever it holds (compose v1 reads YAML 1.1, where
// plain yes, no or 0644 are not strings).
void emit_value(YAML::Emitter& out, const std::string& value);

// Entries of the open map, in the given order, each value as emit_value writes it.
void emit_entries(YAML::Emitter& out, const Entries& entries);
// The "labels" key and its map.
void emit_labels(YAML::Emitter& out, const Labels& labels);
// The "logging" key of a service: Docker's json-file driver, 3 files of 10 MB at most.
void emit_logging(YAML::Emitter& out);

// A compose file up to its open "services" map: the comment heading it, and format 2.4.
void begin_compose(YAML::Emitter& out, const std::string& comment);
// A service of the open "services" map, left open: its name, image and restart policy.
void begin_service(YAML::Emitter& out, const std::string& name, const std::string& image);
// The emitted document as a file's text.
std::string text_of(const YAML::Emitter& out);

Labels owner_labels(const Owner& owner);
// Owner labels plus instance, version and what `ls` needs to rebuild the Instance.
Labels instance_labels(const Owner& owner, const model::Instance& instance);

}  // namespace labctl::squashtm
