#include "provision/registry/reference.hpp"

#include <algorithm>
#include <regex>

namespace labctl::registry {
namespace {

bool is_domain(const std::string& component) {
  return component.find_first_of(".:") != std::string::npos || component == "localhost";
}

bool valid_repository(const std::string& repository) {
  static const std::regex k_path(
      "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
      "(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*");
  return std::regex_match(repository, k_path);
}

bool valid_tag(const std::string& tag) {
  static const std::regex k_tag("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
  return std::regex_match(tag, k_tag);
}

}  // namespace

std::string Reference::name() const {
  return digest.empty() ? repository + ":" + tag : repository + "@" + digest;
}

bool valid_digest(const std::string& digest) {
  static const std::regex k_digest("sha256:[0-9a-f]{64}");
  return std::regex_match(digest, k_digest);
}

Result<Reference> parse_reference(const std::string& text) {
  Reference ref;
  std::string rest = text;
  if (const auto at = rest.find('@'); at != std::string::npos) {
    ref.digest = rest.substr(at + 1);
    rest.erase(at);
    if (!valid_digest(ref.digest)) {
      return Error::usage("image " + text + ": the digest is not sha256:<64 hex digits>");
    }
  }
  const auto slash = rest.find('/');
  if (slash != std::string::npos && is_domain(rest.substr(0, slash))) {
    ref.domain = rest.substr(0, slash);
    rest.erase(0, slash + 1);
  }
  if (const auto colon = rest.rfind(':'); colon != std::string::npos) {
    ref.tag = rest.substr(colon + 1);
    rest.erase(colon);
  } else if (ref.digest.empty()) {
    ref.tag = "latest";
  }
  if (ref.domain == "docker.io" || ref.domain == "index.docker.io") {
    ref.domain.clear();
  }
  if (ref.domain.empty() && rest.find('/') == std::string::npos) {
    rest = "library/" + rest;
  }
  ref.repository = rest;
  if (!valid_repository(ref.repository) || (!ref.tag.empty() && !valid_tag(ref.tag))) {
    return Error::usage("image " + text + " is not a valid image reference");
  }
  return ref;
}

}  // namespace labctl::registry
