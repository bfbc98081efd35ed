// `labctl images pull|save|load|ls`: the container images of the classroom (Squash TM, the
// databases, the proxy and autoheal when enabled) in the host's classroom registry. Not the
// VMs' base images: those are `labctl image build|pull`.

#include "provision/cli/images.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <thread>

#include <fmt/format.h>

#include "provision/cli/registry.hpp"
#include "provision/registry/bundle.hpp"
#include "provision/registry/lab_images.hpp"
#include "provision/registry/storage.hpp"
#include "provision/sys/printable.hpp"
#include "provision/sys/process.hpp"
#include "provision/sys/state.hpp"

namespace labctl::cli {

namespace {

namespace fs = std::filesystem;

struct ImagesArgs {
  std::vector<std::string> teams;  // empty: every team
  std::string file;                // save, load: the bundle
};

std::string mib(std::uint64_t bytes) {
  return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
}

std::vector<registry::Reference> refs_of(const std::vector<registry::ImageUse>& uses) {
  std::vector<registry::Reference> refs;
  for (const registry::ImageUse& use : uses) {
    refs.push_back(use.ref);
  }
  return refs;
}

// One line per image on a terminal, redrawn in place; nothing under --json or -q.
class ProgressLine {
 public:
  explicit ProgressLine(const GlobalOptions& global)
      : m_tty(::isatty(2) != 0 && !global.json && !global.quiet) {}
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;
  ~ProgressLine() { end(); }

  void update(const std::string& image, std::uint64_t done, std::uint64_t total) {
    if (!m_tty || total == 0) {
      return;
    }
    if (!m_image.empty() && image != m_image) {
      end();
    }
    m_image = image;
    constexpr std::uint64_t k_width = 24;
    const std::uint64_t shown = std::min(done, total);
    const std::uint64_t filled = shown * k_width / total;
    fmt::print(stderr, "\r  {:<36} [{}{}] {:3}% of {}", sys::printable(image),
               std::string(filled, '#'), std::string(k_width - filled, ' '), shown * 100 / total,
               mib(total));
  }
  void end() {
    if (m_tty && !m_image.empty()) {
      fmt::print(stderr, "\n");
    }
    m_image.clear();
  }

 private:
  bool m_tty;
  std::string m_image;
};

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

Status check_classroom_registry(const model::Lab& lab) {
  if (!model::uses_classroom_registry(lab)) {
    return Error::usage(lab.file +
                        ": the lab uses no classroom registry (registry.enabled is false, or "
                        "docker.registry_mirror names an outside mirror)");
  }
  return {};
}

// The classroom registry, started when it does not run yet.
Result<registry::Settings> running_registry(const GlobalOptions& global, const model::Lab& lab) {
  if (auto st = check_classroom_registry(lab); !st) {
    return st.error();
  }
  const registry::Settings settings = registry_settings(lab);
  auto started = start_classroom_registry(global, settings);
  if (!started) {
    return started.error();
  }
  if (started->started) {
    notice(global, "registry", "started: " + started->record.describe());
  }
  return settings;
}

nlohmann::ordered_json users_json(const registry::ImageUse& use) {
  nlohmann::ordered_json users = nlohmann::ordered_json::array();
  for (const std::string& user : use.users) {
    users.push_back(user);
  }
  return users;
}

// The lab, the images its teams need and the classroom registry, running.
struct Session {
  model::Lab lab;
  std::vector<registry::ImageUse> uses;
  registry::Settings settings;
};

// The lab and the images its teams need; the registry's settings, not started.
Result<Session> read_session(const GlobalOptions& global, const ImagesArgs& args) {
  auto lab = load(global);
  if (!lab) {
    return lab.error();
  }
  auto uses = needed_images(*lab, args.teams);
  if (!uses) {
    return uses.error();
  }
  registry::Settings settings = registry_settings(*lab);
  return Session{std::move(*lab), std::move(*uses), std::move(settings)};
}

Result<Session> open_session(const GlobalOptions& global, const ImagesArgs& args) {
  auto session = read_session(global, args);
  if (!session) {
    return session.error();
  }
  auto settings = running_registry(global, session->lab);
  if (!settings) {
    return settings.error();
  }
  return session;
}

Status run_pull(const GlobalOptions& global, const ImagesArgs& args) {
  auto session = open_session(global, args);
  if (!session) {
    return session.error();
  }
  const std::vector<registry::ImageUse>* uses = &session->uses;
  const registry::Settings* settings = &session->settings;
  ProgressLine progress(global);
  auto images =
      fill_cache(*settings, *uses,
                 [&progress](const std::string& image, std::uint64_t done, std::uint64_t total) {
                   progress.update(image, done, total);
                 });
  progress.end();
  if (!images) {
    return images.error();
  }
  nlohmann::ordered_json pulled = nlohmann::ordered_json::array();
  for (std::size_t i = 0; i < uses->size(); ++i) {
    const registry::ImageUse& use = (*uses)[i];
    const registry::Image& image = (*images)[i];
    pulled.push_back({{"image", use.ref.name()},
                      {"digest", image.manifest.digest},
                      {"bytes", image.size()},
                      {"users", users_json(use)}});
    if (!global.json) {
      fmt::print("{}  {}  {}\n", sys::printable(use.ref.name()), image.manifest.digest,
                 mib(image.size()));
    }
  }
  if (global.json) {
    global.output->document = {{"registry", registry::mirror_url(*settings)}, {"images", pulled}};
  }
  return {};
}

Status run_save(const GlobalOptions& global, const ImagesArgs& args) {
  auto session = open_session(global, args);
  if (!session) {
    return session.error();
  }
  const std::vector<registry::ImageUse>* uses = &session->uses;
  const registry::Settings* settings = &session->settings;
  registry::CurlTransport transport;
  registry::Client cache(transport, registry::mirror_url(*settings));
  ProgressLine progress(global);
  registry::SaveOptions options;
  options.progress = [&progress](const std::string& image, std::uint64_t done,
                                 std::uint64_t total) { progress.update(image, done, total); };
  if (auto st = registry::save_bundle(cache, refs_of(*uses), args.file, options); !st) {
    return st;
  }
  progress.end();
  std::error_code ec;
  const std::uint64_t bytes = fs::file_size(args.file, ec);
  if (global.json) {
    global.output->document = {{"bundle", args.file}, {"images", uses->size()}, {"bytes", bytes}};
  } else {
    fmt::print("{}: {} images, {}\n", sys::printable(args.file), uses->size(), mib(bytes));
  }
  return {};
}

// A loopback port nothing listens on now.
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

// The cache in proxy mode refuses pushes: the bundle goes into the same storage through a
// plain registry on loopback, started for the load while the cache is stopped; the cache is
// started again afterwards when it ran before.
Status load_into_storage(const GlobalOptions& global, const registry::Settings& settings,
                         const std::vector<registry::Reference>& required, const std::string& file,
                         registry::BundleContents& loaded) {
  auto verified = registry::verify_bundle(file);  // before the cache stops for it
  if (!verified) {
    return verified.error();
  }
  auto port = free_loopback_port();
  if (!port) {
    return port.error();
  }
  sys::SystemRunner runner;
  const bool was_running = registry::status(settings).running;
  if (was_running) {
    if (auto stopped = registry::stop(settings, runner); !stopped) {
      return stopped.error();
    }
  }
  registry::Settings plain = settings;
  plain.address = "127.0.0.1";
  plain.port = *port;
  plain.upstream = "";
  Status outcome;
  if (auto started = registry::start(plain, runner); !started) {
    outcome = started.error();
  } else {
    registry::CurlTransport transport;
    registry::Client target(transport, registry::mirror_url(plain));
    ProgressLine progress(global);
    registry::LoadOptions options;
    options.required = required;
    options.storage = registry::paths_of(settings).data.string();
    options.progress = [&progress](const std::string& image, std::uint64_t done,
                                   std::uint64_t total) { progress.update(image, done, total); };
    auto result = registry::load_bundle(target, file, options);
    progress.end();
    if (result) {
      loaded = std::move(*result);
    } else {
      outcome = result.error();
    }
    if (auto stopped = registry::stop(plain, runner); !stopped && outcome) {
      outcome = stopped.error();
    }
  }
  if (was_running) {
    if (auto again = start_classroom_registry(global, settings); !again && outcome) {
      outcome = again.error();
    }
  }
  return outcome;
}

Status run_load(const GlobalOptions& global, const ImagesArgs& args) {
  auto session = read_session(global, args);
  if (!session) {
    return session.error();
  }
  if (auto st = check_classroom_registry(session->lab); !st) {
    return st;
  }
  registry::BundleContents loaded;
  if (auto st =
          load_into_storage(global, session->settings, refs_of(session->uses), args.file, loaded);
      !st) {
    return st;
  }
  if (global.json) {
    nlohmann::ordered_json images = nlohmann::ordered_json::array();
    for (const registry::BundleImage& image : loaded.images) {
      images.push_back({{"image", image.ref.name()}, {"digest", image.image.manifest.digest}});
    }
    global.output->document = {{"bundle", args.file}, {"images", images}, {"bytes", loaded.bytes}};
  } else {
    fmt::print("{}: {} images loaded into the classroom registry, {}\n", sys::printable(args.file),
               loaded.images.size(), mib(loaded.bytes));
  }
  return {};
}

Status run_ls(const GlobalOptions& global, const ImagesArgs& args) {
  auto session = read_session(global, args);
  if (!session) {
    return session.error();
  }
  const std::vector<registry::ImageUse>* uses = &session->uses;
  const registry::Settings& settings = session->settings;
  auto cached = registry::cached_images(registry::paths_of(settings).data);
  if (!cached) {
    return cached.error();
  }
  std::map<std::string, const registry::ImageUse*> by_name;
  for (const registry::ImageUse& use : *uses) {
    by_name[use.ref.name()] = &use;
  }
  nlohmann::ordered_json json = nlohmann::ordered_json::array();
  std::vector<std::vector<std::string>> rows;
  for (const registry::CachedImage& image : *cached) {
    const auto use = by_name.find(image.ref.name());
    const std::vector<std::string> users =
        use == by_name.end() ? std::vector<std::string>{} : use->second->users;
    json.push_back({{"image", image.ref.name()},
                    {"digest", image.digest},
                    {"bytes", image.bytes},
                    {"complete", image.complete},
                    {"users", users}});
    std::string who;
    for (const std::string& user : users) {
      who += (who.empty() ? "" : ", ") + user;
    }
    rows.push_back({sys::printable(image.ref.name()), image.complete ? mib(image.bytes) : "partial",
                    who.empty() ? "-" : sys::printable(who)});
    by_name.erase(image.ref.name());
  }
  nlohmann::ordered_json missing = nlohmann::ordered_json::array();
  for (const auto& [name, use] : by_name) {
    missing.push_back(name);
  }
  if (global.json) {
    global.output->document = {{"storage", registry::paths_of(settings).data.string()},
                               {"cached", json},
                               {"missing", missing}};
    return {};
  }
  print_table({"IMAGE", "SIZE", "USED BY"}, rows);
  for (const auto& [name, use] : by_name) {
    fmt::print("not cached: {} (used by {} instance(s); `labctl images pull`)\n",
               sys::printable(name), use->users.size());
  }
  return {};
}

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
  auto current = state ? state->read_state() : Result<sys::ClassroomState>(sys::ClassroomState{});
  if (!current) {
    return registry::lab_images(lab, options);
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

void add_images(Registry r) {
  auto* images = r.app.add_subcommand(
      "images",
      "Container images in the classroom registry: pull, save, load, ls (base VM images: "
      "`image`)");
  images->require_subcommand(1);
  auto args = std::make_shared<ImagesArgs>();
  auto* pull = images->add_subcommand("pull",
                                      "Fill the classroom registry with every image "
                                      "the classroom needs, one progress bar per image");
  pull->add_option("teams", args->teams, "Only these teams' images (default: every team)");
  pull->callback([r, args] { r.command = [r, args] { return run_pull(r.global, *args); }; });
  auto* save = images->add_subcommand(
      "save",
      "Write every image the classroom needs to a bundle (OCI layout tar) for a "
      "classroom without internet");
  save->add_option("file", args->file, "The bundle to write")->required();
  save->add_option("teams", args->teams, "Only these teams' images (default: every team)");
  save->callback([r, args] { r.command = [r, args] { return run_save(r.global, *args); }; });
  auto* load = images->add_subcommand(
      "load", "Check a bundle whole, then load it into the classroom registry's storage");
  load->add_option("file", args->file, "The bundle to read")->required()->check(CLI::ExistingFile);
  load->callback([r, args] { r.command = [r, args] { return run_load(r.global, *args); }; });
  auto* ls = images->add_subcommand("ls", "What the classroom registry holds, sizes, users");
  ls->add_option("teams", args->teams, "Only these teams' users (default: every team)");
  ls->callback([r, args] { r.command = [r, args] { return run_ls(r.global, *args); }; });
}

}  // namespace labctl::cli
