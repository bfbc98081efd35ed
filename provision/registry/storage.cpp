#include "provision/registry/storage.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "provision/registry/client.hpp"

namespace labctl::registry {

namespace fs = std::filesystem;

namespace {

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

fs::path blob_path(const fs::path& v2, const std::string& digest) {
  const std::string hex = digest.substr(digest.find(':') + 1);
  return v2 / "blobs" / "sha256" / hex.substr(0, 2) / hex / "data";
}

bool has_blob(const fs::path& v2, const std::string& digest) {
  std::error_code ec;
  return valid_digest(digest) && fs::is_regular_file(blob_path(v2, digest), ec);
}

Result<RawManifest> read_manifest(const fs::path& v2, const std::string& digest) {
  if (!has_blob(v2, digest)) {
    return Error::failure("manifest " + digest + " is not in the storage");
  }
  return RawManifest{"", digest, read_all(blob_path(v2, digest))};
}

// The tag's image: the manifest itself, or its linux/amd64 entry when it is a list.
CachedImage describe(const fs::path& v2, CachedImage image) {
  auto manifest = read_manifest(v2, image.digest);
  if (!manifest) {
    return image;
  }
  auto parsed = parse_image(*manifest);
  if (!parsed) {
    auto entry = pick_platform(*manifest);
    auto inner = entry ? read_manifest(v2, *entry) : Result<RawManifest>(entry.error());
    if (!inner) {
      return image;
    }
    parsed = parse_image(*inner);
    if (!parsed) {
      return image;
    }
  }
  image.bytes = parsed->size();
  image.complete = has_blob(v2, parsed->config.digest) &&
                   std::all_of(parsed->layers.begin(), parsed->layers.end(),
                               [&](const Descriptor& layer) { return has_blob(v2, layer.digest); });
  return image;
}

}  // namespace

bool stored_blob(const fs::path& root, const std::string& digest) {
  return has_blob(root / "docker" / "registry" / "v2", digest);
}

Result<std::vector<CachedImage>> cached_images(const fs::path& root) {
  const fs::path v2 = root / "docker" / "registry" / "v2";
  const fs::path repositories = v2 / "repositories";
  std::vector<CachedImage> out;
  std::error_code ec;
  if (!fs::is_directory(repositories, ec)) {
    return out;
  }
  fs::recursive_directory_iterator it(repositories, ec);
  if (ec) {
    return Error::failure(fmt::format("{}: {}", repositories.string(), ec.message()));
  }
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) {
      return Error::failure(fmt::format("{}: {}", repositories.string(), ec.message()));
    }
    if (it->path().filename() != "_manifests") {
      continue;
    }
    it.disable_recursion_pending();
    const std::string repository = it->path().parent_path().lexically_relative(repositories);
    const fs::path tags = it->path() / "tags";
    if (!fs::is_directory(tags, ec)) {
      continue;
    }
    for (const fs::directory_entry& tag : fs::directory_iterator(tags, ec)) {
      std::string digest = read_all(tag.path() / "current" / "link");
      digest.erase(digest.find_last_not_of(" \n") + 1);
      if (!valid_digest(digest)) {
        continue;  // a tag being written, or deleted
      }
      CachedImage image;
      image.ref.repository = repository;
      image.ref.tag = tag.path().filename();
      image.digest = digest;
      out.push_back(describe(v2, std::move(image)));
    }
  }
  std::sort(out.begin(), out.end(),
            [](const CachedImage& a, const CachedImage& b) { return a.ref.name() < b.ref.name(); });
  return out;
}

}  // namespace labctl::registry

namespace labctl::registry {

namespace {

constexpr std::uint64_t k_space_margin = std::uint64_t{16} << 20;  // manifests, log, uploads

std::string in_mib(std::uint64_t bytes) {
  return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1 << 20));
}

}  // namespace

Status check_space(const fs::path& root, std::uint64_t needed, const std::string& what) {
  if (needed == 0) {
    return {};
  }
  fs::path existing = root;
  std::error_code ec;
  while (!existing.empty() && !fs::exists(existing, ec)) {
    existing = existing.parent_path();
  }
  const fs::space_info space = fs::space(existing.empty() ? fs::path(".") : existing, ec);
  if (ec) {
    return Error::failure(fmt::format("{}: {}", existing.string(), ec.message()));
  }
  if (space.available >= needed + k_space_margin) {
    return {};
  }
  return Error::failure(fmt::format(
      "the classroom registry's storage {} has {} free; {} need {} more (and {} of margin): "
      "no layer was stored; free space there or set LABCTL_REGISTRY_CACHE to a larger disk",
      root.string(), in_mib(space.available), what, in_mib(needed), in_mib(k_space_margin)));
}

}  // namespace labctl::registry
