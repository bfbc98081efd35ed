#pragma once

// Publisher checksum lists (SHA256SUMS, SHA512SUMS): pure parsing.

#include <optional>
#include <string>

#include "provision/images/cache.hpp"

namespace labctl::images {

struct ExpectedDigest {
  DigestKind kind = DigestKind::sha256;
  std::string hex;  // lower case
};

// The digest listed for `file_name` (GNU "HEX  name" / "HEX *name", or BSD
// "SHA256 (name) = HEX"); the kind follows from the digest's length.
std::optional<ExpectedDigest> find_digest(const std::string& sums, const std::string& file_name);

// A pinned digest: 64 hex -> sha256, 128 hex -> sha512; nullopt when malformed.
std::optional<ExpectedDigest> parse_digest(const std::string& hex);

// Last path segment of a URL, without query or fragment: ".../x.qcow2?a=b" -> "x.qcow2".
std::string url_file_name(const std::string& url);

}  // namespace labctl::images
