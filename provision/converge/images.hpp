#pragma once

// `labctl images pull|save|load|ls`: the classroom's container images (Squash TM, the
// databases, the proxy and autoheal when enabled) in the host's classroom registry
// (classroom_registry.hpp), filled through it (cache_fill.hpp), saved to and loaded from a
// bundle (registry/bundle.hpp), listed from its storage (registry/storage.hpp). Each call
// returns what it did for the caller to print; progress goes to the caller's callback.

#include <cstdint>
#include <string>
#include <vector>

#include "provision/converge/cache_fill.hpp"
#include "provision/converge/notify.hpp"
#include "provision/model/lab.hpp"
#include "provision/registry/bundle.hpp"
#include "provision/registry/lab_images.hpp"
#include "provision/registry/supervise.hpp"

namespace labctl::converge {

struct ImagesOptions {
  std::vector<std::string> teams;  // empty: every team
  std::string file;                // save, load: the bundle
  FillProgress progress;           // (image, done, total) while an image moves; may be empty
};

// What `labctl images` works on: the images the teams need and the classroom registry's
// settings (not started).
struct ClassroomImages {
  std::vector<registry::ImageUse> uses;
  registry::Settings settings;
};
Result<ClassroomImages> classroom_images(const model::Lab& lab,
                                         const std::vector<std::string>& teams);

struct PulledImage {
  std::string name;  // "squashtest/squash-tm:6.0.0"
  std::string digest;
  std::uint64_t bytes = 0;
  std::vector<std::string> users;  // "team1/vm1/main"
};
struct PullReport {
  std::string registry;  // the classroom registry's URL
  std::vector<PulledImage> images;
};

// Starts the classroom registry when it does not run, then fills it with every image.
Result<PullReport> pull_images(const Notify& notify, const model::Lab& lab,
                               const ImagesOptions& options);

struct SaveReport {
  std::size_t images = 0;
  std::uint64_t bytes = 0;  // of the bundle written
};

// Every image, through the classroom registry (started when it does not run), into the
// bundle options.file.
Result<SaveReport> save_images(const Notify& notify, const model::Lab& lab,
                               const ImagesOptions& options);

// Checks the bundle options.file whole (it must hold every image the teams need), then loads
// it into the classroom registry's storage (load_into_storage).
Result<registry::BundleContents> load_images(const Notify& notify, const model::Lab& lab,
                                             const ImagesOptions& options);

struct ListedImage {
  std::string name;
  std::string digest;
  std::uint64_t bytes = 0;
  bool complete = false;           // every blob is in the storage
  std::vector<std::string> users;  // empty: no instance of the teams uses it
};
struct MissingImage {
  std::string name;
  std::vector<std::string> users;
};
struct ImageListing {
  std::string storage;                // the registry's storage directory
  std::vector<ListedImage> cached;    // what the storage holds, by name
  std::vector<MissingImage> missing;  // needed but not there, by name
};

// What the registry's storage holds, read from its directory (the registry need not run).
Result<ImageListing> list_images(const ClassroomImages& images);
Result<ImageListing> list_images(const model::Lab& lab, const ImagesOptions& options);

// The cache in proxy mode refuses pushes: the bundle goes into the same storage through a
// plain registry on a free loopback port, started for the load while the cache is stopped;
// the cache is started again afterwards when it ran before. The bundle is verified before
// the cache stops for it.
Result<registry::BundleContents> load_into_storage(const Notify& notify,
                                                   const registry::Settings& settings,
                                                   const std::vector<registry::Reference>& required,
                                                   const std::string& file,
                                                   const FillProgress& progress);

// A loopback port nothing listens on now.
Result<int> free_loopback_port();

}  // namespace labctl::converge
