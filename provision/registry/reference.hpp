#pragma once

// Image references as Docker spells them ("postgres:15", "squashtest/squash-tm:6.0.0",
// "docker.io/library/nginx:1.25-alpine", "x@sha256:...") and as a registry names them
// (repository "library/postgres", tag "15"). Pure.

#include <string>

#include "provision/result.hpp"

namespace labctl::registry {

struct Reference {
  std::string domain;      // "" = Docker Hub, the registry every mirror stands for
  std::string repository;  // "library/postgres": one-word Hub names get "library/"
  std::string tag;         // "15"; "latest" when neither tag nor digest is given
  std::string digest;      // "sha256:<hex>" when pinned

  // What a manifest request names: the digest when pinned, else the tag.
  std::string reference() const { return digest.empty() ? tag : digest; }
  // "library/postgres:15": the name inside a bundle and in messages.
  std::string name() const;
};

Result<Reference> parse_reference(const std::string& text);

// "sha256:<64 lower-case hex>"
bool valid_digest(const std::string& digest);

}  // namespace labctl::registry
