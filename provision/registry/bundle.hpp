#pragma once

// Image bundles for classrooms without internet: an OCI image layout (oci-layout, index.json,
// blobs/sha256/<hex>) in one uncompressed tar. index.json lists one single-platform
// (linux/amd64) manifest per image, named by its `org.opencontainers.image.ref.name`
// annotation "repository:tag" ("library/postgres:15"); `io.containerd.image.name` carries the
// full name for other tools. docs/image-bundles.md describes the format.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "provision/registry/client.hpp"
#include "provision/registry/reference.hpp"
#include "provision/result.hpp"

namespace labctl::registry {

constexpr const char* k_ref_name = "org.opencontainers.image.ref.name";
constexpr const char* k_containerd_name = "io.containerd.image.name";

// Bytes done and expected for one image ("library/postgres:15").
using BundleProgress =
    std::function<void(const std::string& image, std::uint64_t done, std::uint64_t total)>;

struct SaveOptions {
  // Blobs are fetched here first ("" = "<bundle>.parts"); kept when a save fails, so that the
  // next one resumes, removed when it succeeds.
  std::string work_dir;
  BundleProgress progress;
};

// Fetches each image (linux/amd64) from `source` and writes the bundle through
// "<path>.tmp", renamed at the end: a failed save leaves no bundle at `path`.
Status save_bundle(Client& source, const std::vector<Reference>& images, const std::string& path,
                   const SaveOptions& options = {});

struct BundleImage {
  Reference ref;
  Image image;
};

struct BundleContents {
  std::vector<BundleImage> images;
  std::uint64_t bytes = 0;  // of every blob
};

// Reads the whole bundle and checks it: every blob's sha256 and size, and that every image's
// manifest, config and layers are there. Writes nothing.
Result<BundleContents> verify_bundle(const std::string& path);

struct LoadOptions {
  std::vector<Reference> required;  // images the lab needs: the bundle must hold each
  std::string work_dir;             // one blob at a time is unpacked here ("" = $TMPDIR)
  std::string storage;              // the target's storage: its free space is checked first
  BundleProgress progress;
};

// verify_bundle and the required images first: a bundle that fails changes nothing. Then
// pushes the blobs `target` lacks, and the manifests (the tags) last.
Result<BundleContents> load_bundle(Client& target, const std::string& path,
                                   const LoadOptions& options = {});

}  // namespace labctl::registry
