// `save_bundle`: images from a registry into an OCI layout tar.

#include <archive.h>
#include <archive_entry.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "provision/images/cache.hpp"
#include "provision/registry/bundle.hpp"

namespace labctl::registry {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

struct WriteFree {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct EntryFree {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

fs::path blob_path(const fs::path& root, const std::string& digest) {
  return root / "blobs" / "sha256" / digest.substr(digest.find(':') + 1);
}

Error archive_error(const std::string& what, archive* a, const std::string& path) {
  const char* detail = archive_error_string(a);
  return Error::failure(fmt::format("{} {}: {}", what, path, detail ? detail : "unknown error"));
}

// A blob already fetched by an interrupted save is kept when its content is right.
bool have_blob(const fs::path& file, const Descriptor& blob) {
  std::error_code ec;
  if (!fs::exists(file, ec) || fs::file_size(file, ec) != blob.size) {
    return false;
  }
  auto hex = images::file_digest_hex(images::DigestKind::sha256, file.string());
  return hex && "sha256:" + *hex == blob.digest;
}

Status fetch_image(Client& source, const Reference& ref, const fs::path& root, Json& index,
                   const BundleProgress& progress) {
  auto image = source.image(ref);
  if (!image) {
    return Error::failure(ref.name() + ": " + image.error().message);
  }
  const std::uint64_t total = image->size();
  std::uint64_t done = image->manifest.body.size();
  std::vector<Descriptor> blobs{image->config};
  blobs.insert(blobs.end(), image->layers.begin(), image->layers.end());
  for (const Descriptor& blob : blobs) {
    const fs::path file = blob_path(root, blob.digest);
    if (!have_blob(file, blob)) {
      auto each = [&](std::uint64_t now, std::uint64_t) {
        if (progress) {
          progress(ref.name(), done + now, total);
        }
      };
      if (auto st = source.blob(ref.repository, blob, file.string(), each); !st) {
        return Error::failure(ref.name() + ": " + st.error().message);
      }
    }
    done += blob.size;
  }
  std::ofstream(blob_path(root, image->manifest.digest), std::ios::binary) << image->manifest.body;
  if (progress) {
    progress(ref.name(), total, total);
  }
  index["manifests"].push_back(
      {{"mediaType", image->manifest.media_type},
       {"digest", image->manifest.digest},
       {"size", image->manifest.body.size()},
       {"platform", {{"os", "linux"}, {"architecture", "amd64"}}},
       {"annotations",
        {{k_ref_name, ref.name()}, {k_containerd_name, "docker.io/" + ref.name()}}}});
  return {};
}

Status add_entry(archive* a, const std::string& name, std::uint64_t size) {
  std::unique_ptr<archive_entry, EntryFree> entry(archive_entry_new());
  archive_entry_set_pathname(entry.get(), name.c_str());
  archive_entry_set_filetype(entry.get(), AE_IFREG);
  archive_entry_set_perm(entry.get(), 0644);
  archive_entry_set_size(entry.get(), static_cast<la_int64_t>(size));
  archive_entry_set_mtime(entry.get(), 0, 0);
  if (archive_write_header(a, entry.get()) != ARCHIVE_OK) {
    return archive_error("cannot add " + name + " to", a, "the bundle");
  }
  return {};
}

Status add_text(archive* a, const std::string& name, const std::string& text) {
  if (auto st = add_entry(a, name, text.size()); !st) {
    return st;
  }
  if (archive_write_data(a, text.data(), text.size()) != static_cast<la_ssize_t>(text.size())) {
    return archive_error("cannot write " + name + " to", a, "the bundle");
  }
  return {};
}

Status add_file(archive* a, const std::string& name, const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::error_code ec;
  const auto size = fs::file_size(file, ec);
  if (!in || ec) {
    return Error::failure("cannot read " + file.string());
  }
  if (auto st = add_entry(a, name, size); !st) {
    return st;
  }
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto n = static_cast<std::size_t>(in.gcount());
    if (n > 0 && archive_write_data(a, buffer.data(), n) != static_cast<la_ssize_t>(n)) {
      return archive_error("cannot write " + name + " to", a, "the bundle");
    }
  }
  return {};
}

Status write_tar(const fs::path& root, const Json& index, const std::string& path) {
  std::unique_ptr<archive, WriteFree> a(archive_write_new());
  if (archive_write_set_format_pax_restricted(a.get()) != ARCHIVE_OK ||
      archive_write_open_filename(a.get(), path.c_str()) != ARCHIVE_OK) {
    return archive_error("cannot create", a.get(), path);
  }
  Status st = add_text(a.get(), "oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
  if (st) {
    st = add_text(a.get(), "index.json", index.dump());
  }
  std::set<std::string> written;
  for (const Json& entry : index["manifests"]) {
    // Each image's blobs: manifest, then what it names (read back from the staged manifest).
    const std::string digest = entry["digest"];
    std::ifstream in(blob_path(root, digest), std::ios::binary);
    const Json manifest = Json::parse(in, nullptr, false);
    std::vector<std::string> digests{digest, manifest["config"]["digest"]};
    for (const Json& layer : manifest["layers"]) {
      digests.push_back(layer["digest"]);
    }
    for (const std::string& d : digests) {
      if (st && written.insert(d).second) {
        const fs::path file = blob_path(root, d);
        st = add_file(a.get(), "blobs/sha256/" + file.filename().string(), file);
      }
    }
  }
  if (st && archive_write_close(a.get()) != ARCHIVE_OK) {
    st = archive_error("cannot finish", a.get(), path);
  }
  return st;
}

}  // namespace

Status save_bundle(Client& source, const std::vector<Reference>& images, const std::string& path,
                   const SaveOptions& options) {
  const fs::path root =
      options.work_dir.empty() ? fs::path(path + ".parts") : fs::path(options.work_dir);
  std::error_code ec;
  fs::create_directories(root / "blobs" / "sha256", ec);
  if (ec) {
    return Error::failure("cannot create " + root.string() + ": " + ec.message());
  }
  Json index = {{"schemaVersion", 2}, {"mediaType", k_oci_index}, {"manifests", Json::array()}};
  for (const Reference& ref : images) {
    if (auto st = fetch_image(source, ref, root, index, options.progress); !st) {
      return st;
    }
  }
  const std::string tmp = path + ".tmp";
  if (auto st = write_tar(root, index, tmp); !st) {
    fs::remove(tmp, ec);
    return st;
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return Error::failure("cannot write " + path + ": " + ec.message());
  }
  fs::remove_all(root, ec);
  return {};
}

}  // namespace labctl::registry
