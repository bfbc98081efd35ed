#include "provision/converge/cache_fill.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <thread>

#include <fmt/format.h>

#include "provision/registry/storage.hpp"
#include "provision/sys/printable.hpp"
#include "provision/sys/state.hpp"

namespace labctl::converge {

namespace {

namespace fs = std::filesystem;

// A scratch directory for blobs on their way, removed at scope exit.
class Scratch {
 public:
  Scratch() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = fmt::format("{}/lct-images.XXXXXX", tmp != nullptr ? tmp : "/tmp");
    if (::mkdtemp(pattern.data()) != nullptr) {
      m_path = pattern;
    }
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(m_path, ec);
  }
  const fs::path& path() const { return m_path; }

 private:
  fs::path m_path;
};

}  // namespace

Result<std::vector<registry::ImageUse>> needed_images(const model::Lab& lab,
                                                      const std::vector<std::string>& teams) {
  for (const std::string& team : teams) {
    if (lab.find_team(team) == nullptr) {
      return Error::usage(fmt::format("{}: no team '{}'", lab.file, sys::printable(team)));
    }
  }
  registry::LabImageOptions options;
  options.teams = teams;
  options.proxy = lab.squash_proxy;
  options.autoheal = lab.squash_autoheal;
  // The instances as they run: `squash add` and `squash rm` are recorded in the state.
  auto state = sys::StateDir::open_read_only(lab.classroom);
  // No state root: nothing was recorded; a record that cannot be read is an error.
  auto current = state ? state->read_state() : Result<sys::ClassroomState>(sys::ClassroomState{});
  if (!current) {
    return current.error();
  }
  model::Lab running = lab;
  for (model::Team& team : running.teams) {
    for (model::Vm& vm : team.vms) {
      vm.instances = current->effective_instances(vm);
    }
  }
  return registry::lab_images(running, options);
}

namespace {

// A cache stores what it fetched in the background, after the client's copy ended.
Status wait_stored(const fs::path& storage, const registry::Descriptor& blob) {
  for (int i = 0; i < 600 && !registry::stored_blob(storage, blob.digest); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (!registry::stored_blob(storage, blob.digest)) {
    // The likeliest cause: the disk filled up meanwhile (the registry's log says so too).
    if (auto st = registry::check_space(storage, blob.size, "blob " + blob.digest); !st) {
      return Error::failure("fetched but not stored: " + st.error().message);
    }
    return Error::failure(fmt::format("blob {} was fetched but not stored in 60 s", blob.digest));
  }
  return {};
}

std::vector<registry::Descriptor> blobs_of(const registry::Image& image) {
  std::vector<registry::Descriptor> blobs{image.config};
  blobs.insert(blobs.end(), image.layers.begin(), image.layers.end());
  return blobs;
}

// The bytes of the images' blobs that the storage lacks, each blob once.
std::uint64_t missing_bytes(const fs::path& storage, const std::vector<registry::Image>& images) {
  std::map<std::string, std::uint64_t> missing;
  for (const registry::Image& image : images) {
    for (const registry::Descriptor& blob : blobs_of(image)) {
      if (!registry::stored_blob(storage, blob.digest)) {
        missing[blob.digest] = blob.size;
      }
    }
  }
  std::uint64_t bytes = 0;
  for (const auto& [digest, size] : missing) {
    bytes += size;
  }
  return bytes;
}

Status fill_one(registry::Client& cache, const fs::path& storage, const registry::ImageUse& use,
                const fs::path& scratch, const FillProgress& progress,
                const registry::Image& image) {
  const std::uint64_t total = image.size();
  std::uint64_t done = image.manifest.body.size();
  for (const registry::Descriptor& blob : blobs_of(image)) {
    if (!registry::stored_blob(storage, blob.digest)) {
      const fs::path file = scratch / blob.digest.substr(7);
      const std::uint64_t before = done;
      auto fetched = cache.blob(use.ref.repository, blob, file.string(),
                                [&](std::uint64_t got, std::uint64_t /*total*/) {
                                  if (progress) {
                                    progress(use.ref.name(), before + got, total);
                                  }
                                });
      std::error_code ec;
      fs::remove(file, ec);
      if (!fetched) {
        return Error::failure(fmt::format("{}: {}", use.ref.name(), fetched.error().message));
      }
      if (auto st = wait_stored(storage, blob); !st) {
        return Error::failure(fmt::format("{}: {}", use.ref.name(), st.error().message));
      }
    }
    done += blob.size;
    if (progress) {
      progress(use.ref.name(), done, total);
    }
  }
  return {};
}

}  // namespace

Result<std::vector<registry::Image>> fill_cache(const registry::Settings& settings,
                                                const std::vector<registry::ImageUse>& uses,
                                                const FillProgress& progress) {
  registry::CurlTransport transport;
  registry::Client cache(transport, registry::mirror_url(settings));
  const fs::path storage = registry::paths_of(settings).data;
  Scratch scratch;
  std::vector<registry::Image> images;
  for (const registry::ImageUse& use : uses) {
    auto found = cache.image(use.ref);
    if (!found) {
      return Error::failure(fmt::format("{}: {}", use.ref.name(), found.error().message));
    }
    images.push_back(std::move(*found));
  }
  // A disk too small is refused before any blob is fetched: nothing half-stored.
  if (auto st = registry::check_space(storage, missing_bytes(storage, images),
                                      fmt::format("the classroom's {} images", images.size()));
      !st) {
    return st.error();
  }
  for (std::size_t i = 0; i < uses.size(); ++i) {
    if (auto st = fill_one(cache, storage, uses[i], scratch.path(), progress, images[i]); !st) {
      return st.error();
    }
  }
  return images;
}

}  // namespace labctl::converge
