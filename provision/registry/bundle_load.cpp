// `verify_bundle` and `load_bundle`: a bundle is read through once and checked whole before
// anything is pushed; then read again to push the blobs the target lacks, tags last.

#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "provision/images/cache.hpp"
#include "provision/registry/bundle.hpp"
#include "provision/registry/storage.hpp"

namespace labctl::registry {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

constexpr std::uint64_t k_max_manifest = 4 << 20;  // the registry's own limit

struct ReadFree {
  void operator()(archive* a) const { archive_read_free(a); }
};
using Reader = std::unique_ptr<archive, ReadFree>;

// What the scan saw of one blob entry.
struct SeenBlob {
  std::uint64_t size = 0;
  std::string digest;  // of the content
  std::string text;    // small JSON blobs (manifests, configs) are kept
};

struct Scan {
  std::string oci_layout;
  std::string index;
  std::map<std::string, SeenBlob> blobs;  // by the digest its name claims
};

Result<Reader> open_bundle(const std::string& path) {
  Reader a(archive_read_new());
  archive_read_support_format_tar(a.get());
  archive_read_support_filter_all(a.get());
  if (archive_read_open_filename(a.get(), path.c_str(), 1 << 16) != ARCHIVE_OK) {
    return Error::failure(
        fmt::format("cannot open bundle {}: {}", path, archive_error_string(a.get())));
  }
  return a;
}

Error damaged(const std::string& path, archive* a) {
  const char* detail = archive_error_string(a);
  return Error::failure(fmt::format("bundle {} is damaged or incomplete: {}; nothing was loaded",
                                    path, detail ? detail : "read error"));
}

// "blobs/sha256/<hex>" (or "./blobs/...") -> "sha256:<hex>"; "" for other entries.
std::string blob_digest(std::string name) {
  if (name.starts_with("./")) {
    name.erase(0, 2);
  }
  return name.starts_with("blobs/sha256/") ? "sha256:" + name.substr(13) : "";
}

std::string entry_name(archive_entry* entry) {
  std::string name = archive_entry_pathname(entry);
  return name.starts_with("./") ? name.substr(2) : name;
}

// Streams the current entry through `sink`; false on a read error (a truncated tar).
template <typename Sink>
bool read_entry(archive* a, Sink&& sink) {
  std::vector<char> buffer(1 << 20);
  la_ssize_t n = 0;
  while ((n = archive_read_data(a, buffer.data(), buffer.size())) > 0) {
    sink(buffer.data(), static_cast<std::size_t>(n));
  }
  return n == 0;
}

Result<Scan> scan(const std::string& path) {
  auto a = open_bundle(path);
  if (!a) {
    return a.error();
  }
  Scan out;
  archive_entry* entry = nullptr;
  int rc = ARCHIVE_OK;
  while ((rc = archive_read_next_header(a->get(), &entry)) == ARCHIVE_OK) {
    const std::string name = entry_name(entry);
    const std::string digest = blob_digest(name);
    std::string text;
    images::DigestStream hash(images::DigestKind::sha256);
    std::uint64_t size = 0;
    const bool keep_all = name == "index.json" || name == "oci-layout";
    bool json = keep_all;
    const bool ok = read_entry(a->get(), [&](const char* data, std::size_t n) {
      json = json || (size == 0 && data[0] == '{');  // layers are gzip or tar, never JSON
      hash.update(data, n);
      size += n;
      if (keep_all || (json && size <= k_max_manifest)) {
        text.append(data, n);
      }
    });
    if (!ok) {
      return damaged(path, a->get());
    }
    if (name == "index.json") {
      out.index = std::move(text);
    } else if (name == "oci-layout") {
      out.oci_layout = std::move(text);
    } else if (!digest.empty()) {
      out.blobs[digest] = {size, "sha256:" + hash.hex(), size <= k_max_manifest ? text : ""};
    }
  }
  if (rc != ARCHIVE_EOF) {
    return damaged(path, a->get());
  }
  return out;
}

// A blob an image needs, checked against what the scan saw.
Status check_blob(const Scan& seen, const std::string& image, const std::string& role,
                  const Descriptor& want) {
  const auto it = seen.blobs.find(want.digest);
  if (it == seen.blobs.end()) {
    return Error::failure(fmt::format("image {}: its {} {} is missing", image, role, want.digest));
  }
  if (it->second.digest != want.digest) {
    return Error::failure(fmt::format("image {}: its {} {} is corrupt (its content has digest {})",
                                      image, role, want.digest, it->second.digest));
  }
  if (it->second.size != want.size) {
    return Error::failure(fmt::format("image {}: its {} {} has {} bytes, the manifest says {}",
                                      image, role, want.digest, it->second.size, want.size));
  }
  return {};
}

Result<BundleImage> check_image(const Scan& seen, const Json& entry) {
  const Json annotations = entry.value("annotations", Json::object());
  const std::string name = annotations.value(k_ref_name, "");
  auto ref = parse_reference(name);
  if (!ref || ref->tag.empty()) {
    return Error::failure("index.json names an image '" + name + "', not repository:tag");
  }
  Descriptor manifest{entry.value("mediaType", ""), entry.value("digest", ""),
                      entry.value("size", std::uint64_t{0})};
  if (auto st = check_blob(seen, ref->name(), "manifest", manifest); !st) {
    return st.error();
  }
  auto image =
      parse_image({manifest.media_type, manifest.digest, seen.blobs.at(manifest.digest).text});
  if (!image) {
    return Error::failure("image " + ref->name() + ": " + image.error().message);
  }
  if (auto st = check_blob(seen, ref->name(), "config", image->config); !st) {
    return st.error();
  }
  for (std::size_t i = 0; i < image->layers.size(); ++i) {
    if (auto st = check_blob(seen, ref->name(), fmt::format("layer {}", i + 1), image->layers[i]);
        !st) {
      return st.error();
    }
  }
  return BundleImage{*ref, std::move(*image)};
}

Result<BundleContents> check_scan(const Scan& seen) {
  if (seen.oci_layout.empty() || seen.index.empty()) {
    return Error::failure(seen.index.empty() ? "it has no index.json" : "it has no oci-layout");
  }
  const Json index = Json::parse(seen.index, nullptr, false);
  if (!index.is_object() || !index.contains("manifests") || !index["manifests"].is_array()) {
    return Error::failure("its index.json is not an OCI index");
  }
  BundleContents contents;
  for (const Json& entry : index["manifests"]) {
    auto image = check_image(seen, entry);
    if (!image) {
      return image.error();
    }
    contents.images.push_back(std::move(*image));
  }
  for (const auto& [digest, blob] : seen.blobs) {
    contents.bytes += blob.size;
  }
  return contents;
}

// Which repositories lack each blob: a blob is linked per repository.
Result<std::map<std::string, std::set<std::string>>> blobs_to_push(Client& target,
                                                                   const BundleContents& contents) {
  std::map<std::string, std::set<std::string>> wanted;
  for (const BundleImage& b : contents.images) {
    std::vector<Descriptor> blobs{b.image.config};
    blobs.insert(blobs.end(), b.image.layers.begin(), b.image.layers.end());
    for (const Descriptor& blob : blobs) {
      auto has = target.has_blob(b.ref.repository, blob.digest);
      if (!has) {
        return has.error();
      }
      if (!*has) {
        wanted[blob.digest].insert(b.ref.repository);
      }
    }
  }
  return wanted;
}

std::uint64_t wanted_bytes(const BundleContents& contents,
                           const std::map<std::string, std::set<std::string>>& wanted) {
  std::map<std::string, std::uint64_t> sizes;
  for (const BundleImage& b : contents.images) {
    sizes[b.image.config.digest] = b.image.config.size;
    for (const Descriptor& layer : b.image.layers) {
      sizes[layer.digest] = layer.size;
    }
  }
  std::uint64_t bytes = 0;
  for (const auto& [digest, repositories] : wanted) {
    bytes += sizes[digest];
  }
  return bytes;
}

Status push_blobs(Client& target, const std::string& path,
                  const std::map<std::string, std::set<std::string>>& wanted, const fs::path& work,
                  const LoadOptions& options) {
  std::uint64_t total = 0;
  std::uint64_t done = 0;
  for (const auto& [digest, repositories] : wanted) {
    total += repositories.size();
  }
  auto a = open_bundle(path);
  if (!a) {
    return a.error();
  }
  archive_entry* entry = nullptr;
  while (archive_read_next_header(a->get(), &entry) == ARCHIVE_OK) {
    const std::string digest = blob_digest(entry_name(entry));
    const auto it = wanted.find(digest);
    if (it == wanted.end()) {
      continue;
    }
    const fs::path file = work / digest.substr(7);
    std::ofstream out(file, std::ios::binary);
    images::DigestStream hash(images::DigestKind::sha256);
    const bool ok = read_entry(a->get(), [&](const char* data, std::size_t n) {
      hash.update(data, n);
      out.write(data, static_cast<std::streamsize>(n));
    });
    out.close();
    if (!ok || "sha256:" + hash.hex() != digest) {
      return Error::failure("bundle " + path + " changed while it was loaded (blob " + digest +
                            ")");
    }
    for (const std::string& repository : it->second) {
      if (auto st = target.push_blob(repository, digest, file.string()); !st) {
        return st;
      }
      if (options.progress) {
        options.progress(repository, ++done, total);  // blobs pushed, of all to push
      }
    }
    fs::remove(file);
  }
  return {};
}

Status check_required(const BundleContents& contents, const std::vector<Reference>& required,
                      const std::string& path) {
  std::set<std::string> held;
  for (const BundleImage& b : contents.images) {
    held.insert(b.ref.name());
  }
  std::vector<std::string> lacking;
  for (const Reference& ref : required) {
    if (held.count(ref.name()) == 0) {
      lacking.push_back(ref.name());
    }
  }
  if (lacking.empty()) {
    return {};
  }
  return Error::failure(fmt::format("bundle {} lacks {} that the lab needs: {}; nothing was loaded",
                                    path, lacking.size() == 1 ? "an image" : "images",
                                    fmt::join(lacking, ", ")));
}

}  // namespace

Result<BundleContents> verify_bundle(const std::string& path) {
  auto seen = scan(path);
  if (!seen) {
    return seen.error();
  }
  auto contents = check_scan(*seen);
  if (!contents) {
    return Error::failure("bundle " + path + " refused: " + contents.error().message +
                          "; nothing was loaded");
  }
  return contents;
}

Result<BundleContents> load_bundle(Client& target, const std::string& path,
                                   const LoadOptions& options) {
  auto contents = verify_bundle(path);
  if (!contents) {
    return contents.error();
  }
  if (auto st = check_required(*contents, options.required, path); !st) {
    return st.error();
  }
  auto wanted = blobs_to_push(target, *contents);
  if (!wanted) {
    return wanted.error();
  }
  if (!options.storage.empty()) {
    if (auto st = check_space(options.storage, wanted_bytes(*contents, *wanted),
                              "the bundle's blobs that it lacks");
        !st) {
      return st.error();
    }
  }
  std::string tmpl =
      (options.work_dir.empty() ? fs::temp_directory_path() : fs::path(options.work_dir)) /
      "labctl-load.XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return Error::failure("cannot create a directory like " + tmpl);
  }
  const Status pushed = push_blobs(target, path, *wanted, tmpl, options);
  std::error_code ec;
  fs::remove_all(tmpl, ec);
  if (!pushed) {
    return pushed.error();
  }
  for (const BundleImage& b : contents->images) {  // tags last: an image appears whole
    if (auto st = target.push_manifest(b.ref.repository, b.ref.tag, b.image.manifest); !st) {
      return st.error();
    }
  }
  return contents;
}

}  // namespace labctl::registry
