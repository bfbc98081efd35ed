#pragma once

// Rendered YAML read back with yaml-cpp, for the renderers' tests: values that would change a
// document written by hand, a document's shape, and a value that must read back as itself.

#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>
#include <catch2/catch.hpp>

namespace labctl::testing {

// Quotes, newlines, '$', ':', '#', a leading '-', YAML 1.1's booleans and null, numbers (octal,
// sexagesimal), flow and block indicators, anchors, aliases and tags, spaces at either end,
// control characters, non-ASCII, and nothing at all.
inline std::vector<std::string> hostile_values() {
  return {"say \"hi\" 'there'",
          "two\nlines\n",
          "$HOME ${X} $$",
          "key: value",
          "# comment",
          "- item",
          "yes",
          "no",
          "Off",
          "null",
          "~",
          "0644",
          "12:30",
          "1e3",
          "[a, b]",
          "{a: b}",
          "&a *a !!str",
          " padded ",
          "tab\there",
          "back\\slash",
          "|",
          ">",
          "%TAG",
          "@x `y`",
          "été",
          "nul\x01"
          "bell\x07",
          ""};
}

inline void collect_shape(const YAML::Node& node, const std::string& path,
                          std::vector<std::string>& out) {
  out.push_back(path);
  if (node.IsMap()) {
    for (const auto& entry : node) {
      collect_shape(entry.second, path + "/" + entry.first.as<std::string>(), out);
    }
  } else if (node.IsSequence()) {
    for (std::size_t i = 0; i < node.size(); ++i) {
      collect_shape(node[i], path + "/" + std::to_string(i), out);
    }
  }
}

// Every path from the root to each node ("/users/0/name"), in order, values left out: two
// documents of the same shape have the same list.
inline std::vector<std::string> shape_of(const std::string& yaml) {
  std::vector<std::string> out;
  collect_shape(YAML::Load(yaml), "", out);
  return out;
}

// The scalar reads back as `expected`, written quoted or as a block (yaml-cpp tags those "!"):
// no YAML resolver, 1.1 or 1.2, can take it for a number, a boolean or null.
inline void check_reads_back(const YAML::Node& node, const std::string& expected) {
  REQUIRE(node.IsScalar());
  CHECK(node.as<std::string>() == expected);
  CHECK(node.Tag() == "!");
}

}  // namespace labctl::testing
