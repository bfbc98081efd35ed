#include "provision/converge/images.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>

#include "provision/converge/classroom_registry.hpp"
#include "provision/registry/storage.hpp"
#include "provision/sys/process.hpp"

namespace labctl::converge {

namespace {

namespace fs = std::filesystem;

std::vector<registry::Reference> refs_of(const std::vector<registry::ImageUse>& uses) {
  std::vector<registry::Reference> refs;
  for (const registry::ImageUse& use : uses) {
    refs.push_back(use.ref);
  }
  return refs;
}

// The lab's images, with the classroom registry running.
Result<ClassroomImages> open_classroom_images(const Notify& notify, const model::Lab& lab,
                                              const std::vector<std::string>& teams) {
  auto images = classroom_images(lab, teams);
  if (!images) {
    return images.error();
  }
  auto settings = running_registry(notify, lab);
  if (!settings) {
    return settings.error();
  }
  return images;
}

// The bundle through a plain registry on loopback at `port`, into the storage of `settings`;
// that registry is stopped again whatever the load did.
Result<registry::BundleContents> load_through_plain(
    const registry::Settings& settings, int port, const std::vector<registry::Reference>& required,
    const std::string& file, const FillProgress& progress) {
  registry::Settings plain = settings;
  plain.address = "127.0.0.1";
  plain.port = port;
  plain.upstream = "";
  sys::SystemRunner runner;
  if (auto started = registry::start(plain, runner); !started) {
    return started.error();
  }
  registry::CurlTransport transport;
  registry::Client target(transport, registry::mirror_url(plain));
  registry::LoadOptions options;
  options.required = required;
  options.storage = registry::paths_of(settings).data.string();
  options.progress = progress;
  auto loaded = registry::load_bundle(target, file, options);
  if (auto stopped = registry::stop(plain, runner); !stopped && loaded) {
    return stopped.error();
  }
  return loaded;
}

}  // namespace

Result<ClassroomImages> classroom_images(const model::Lab& lab,
                                         const std::vector<std::string>& teams) {
  auto uses = needed_images(lab, teams);
  if (!uses) {
    return uses.error();
  }
  auto settings = registry_settings(lab);
  if (!settings) {
    return settings.error();
  }
  return ClassroomImages{std::move(*uses), std::move(*settings)};
}

Result<PullReport> pull_images(const Notify& notify, const model::Lab& lab,
                               const ImagesOptions& options) {
  auto opened = open_classroom_images(notify, lab, options.teams);
  if (!opened) {
    return opened.error();
  }
  auto images = fill_cache(opened->settings, opened->uses, options.progress);
  if (!images) {
    return images.error();
  }
  PullReport report{registry::mirror_url(opened->settings), {}};
  for (std::size_t i = 0; i < opened->uses.size(); ++i) {
    const registry::ImageUse& use = opened->uses[i];
    const registry::Image& image = (*images)[i];
    report.images.push_back({use.ref.name(), image.manifest.digest, image.size(), use.users});
  }
  return report;
}

Result<SaveReport> save_images(const Notify& notify, const model::Lab& lab,
                               const ImagesOptions& options) {
  auto opened = open_classroom_images(notify, lab, options.teams);
  if (!opened) {
    return opened.error();
  }
  registry::CurlTransport transport;
  registry::Client cache(transport, registry::mirror_url(opened->settings));
  registry::SaveOptions save;
  save.progress = options.progress;
  if (auto st = registry::save_bundle(cache, refs_of(opened->uses), options.file, save); !st) {
    return st.error();
  }
  std::error_code ec;
  return SaveReport{opened->uses.size(), fs::file_size(options.file, ec)};
}

Result<registry::BundleContents> load_images(const Notify& notify, const model::Lab& lab,
                                             const ImagesOptions& options) {
  auto images = classroom_images(lab, options.teams);
  if (!images) {
    return images.error();
  }
  if (auto st = check_classroom_registry(lab); !st) {
    return st.error();
  }
  return load_into_storage(notify, images->settings, refs_of(images->uses), options.file,
                           options.progress);
}

Result<ImageListing> list_images(const ClassroomImages& images) {
  ImageListing listing;
  listing.storage = registry::paths_of(images.settings).data.string();
  auto cached = registry::cached_images(listing.storage);
  if (!cached) {
    return cached.error();
  }
  std::map<std::string, const registry::ImageUse*> by_name;
  for (const registry::ImageUse& use : images.uses) {
    by_name[use.ref.name()] = &use;
  }
  for (const registry::CachedImage& image : *cached) {
    const auto use = by_name.find(image.ref.name());
    listing.cached.push_back(
        {image.ref.name(), image.digest, image.bytes, image.complete,
         use == by_name.end() ? std::vector<std::string>{} : use->second->users});
    by_name.erase(image.ref.name());
  }
  for (const auto& [name, use] : by_name) {
    listing.missing.push_back({name, use->users});
  }
  return listing;
}

Result<ImageListing> list_images(const model::Lab& lab, const ImagesOptions& options) {
  auto images = classroom_images(lab, options.teams);
  if (!images) {
    return images.error();
  }
  return list_images(*images);
}

Result<registry::BundleContents> load_into_storage(const Notify& notify,
                                                   const registry::Settings& settings,
                                                   const std::vector<registry::Reference>& required,
                                                   const std::string& file,
                                                   const FillProgress& progress) {
  if (auto verified = registry::verify_bundle(file); !verified) {
    return verified.error();
  }
  auto port = free_loopback_port();
  if (!port) {
    return port.error();
  }
  const bool was_running = registry::status(settings).running;
  if (was_running) {
    sys::SystemRunner runner;
    if (auto stopped = registry::stop(settings, runner); !stopped) {
      return stopped.error();
    }
  }
  auto loaded = load_through_plain(settings, *port, required, file, progress);
  if (was_running) {
    if (auto again = start_classroom_registry(notify, settings); !again && loaded) {
      return again.error();
    }
  }
  return loaded;
}

Result<int> free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    return Error::failure("socket: " + std::string(std::strerror(errno)));
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  ::close(fd);
  if (port == 0) {
    return Error::failure("no free loopback port: " + std::string(std::strerror(errno)));
  }
  return port;
}

}  // namespace labctl::converge
