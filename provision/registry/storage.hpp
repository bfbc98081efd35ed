#pragma once

// What a registry's storage holds, read from its directory: the filesystem layout of the
// CNCF distribution registry (docker/registry/v2/repositories/<name>/_manifests/tags/<tag>/
// current/link names a manifest, whose bytes are blobs/sha256/<2 hex>/<hex>/data). Read
// without the registry running, so `images ls` shows what is cached and nothing else: a
// pull-through cache answers a tags list from its upstream.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "provision/registry/reference.hpp"
#include "provision/result.hpp"

namespace labctl::registry {

struct CachedImage {
  Reference ref;            // repository and tag (Docker Hub names: "library/postgres:15")
  std::string digest;       // of the tag's manifest (a list when the upstream tagged one)
  std::uint64_t bytes = 0;  // linux/amd64 image: manifest, config and layers
  bool complete = false;    // every blob of that image is in the storage
};

// Every tagged image of the storage whose root (the registry's `rootdirectory`) is `root`,
// sorted by name; empty when the directory holds none.
Result<std::vector<CachedImage>> cached_images(const std::filesystem::path& root);

}  // namespace labctl::registry

namespace labctl::registry {

// The blob is in the storage under `root` (a cache stores what it fetched in the background).
bool stored_blob(const std::filesystem::path& root, const std::string& digest);

}  // namespace labctl::registry

namespace labctl::registry {

// Refuses, before any layer is stored, when the file system that holds `root` (or would hold
// it: its nearest existing parent) has less than `needed` bytes free plus a margin for the
// registry's manifests and log: the error names the directory, both sizes and `what`. (A
// pull-through cache keeps the manifests it served to tell the sizes: a few KiB, no image.)
Status check_space(const std::filesystem::path& root, std::uint64_t needed,
                   const std::string& what);

}  // namespace labctl::registry
