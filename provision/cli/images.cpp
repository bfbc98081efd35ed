// `labctl images pull|save|load|ls`: the container images of the classroom (Squash TM, the
// databases, the proxy and autoheal when enabled) in the host's classroom registry. Not the
// VMs' base images: those are `labctl image build|pull`.

#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>

#include "provision/cli/common.hpp"
#include "provision/converge/images.hpp"
#include "provision/sys/printable.hpp"

namespace labctl::cli {

namespace {

struct ImagesArgs {
  std::vector<std::string> teams;  // empty: every team
  std::string file;                // save, load: the bundle
};

std::string mib(std::uint64_t bytes) {
  return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
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

converge::FillProgress progress_of(ProgressLine& progress) {
  return [&progress](const std::string& image, std::uint64_t done, std::uint64_t total) {
    progress.update(image, done, total);
  };
}

// notifier(global), after ending the progress line: a warning starts on a line of its own.
converge::Notify notifier_after(const GlobalOptions& global, ProgressLine& progress) {
  return [&global, &progress](const std::string& level, const std::string& text) {
    progress.end();
    notice(global, level, text);
  };
}

converge::ImagesOptions options_of(const ImagesArgs& args, ProgressLine& progress) {
  return {args.teams, args.file, progress_of(progress)};
}

template <typename T>
using ImagesCall = Result<T> (*)(const converge::Notify&, const model::Lab&,
                                 const converge::ImagesOptions&);

// The lab, then one of converge's images calls with a progress line on the terminal.
template <typename T>
Result<T> with_progress(const GlobalOptions& global, const ImagesArgs& args, ImagesCall<T> call) {
  auto lab = load(global);
  if (!lab) {
    return lab.error();
  }
  ProgressLine progress(global);
  auto result = call(notifier_after(global, progress), *lab, options_of(args, progress));
  progress.end();
  return result;
}

Status run_pull(const GlobalOptions& global, const ImagesArgs& args) {
  auto pulled = with_progress(global, args, &converge::pull_images);
  if (!pulled) {
    return pulled.error();
  }
  nlohmann::ordered_json images = nlohmann::ordered_json::array();
  for (const converge::PulledImage& image : pulled->images) {
    images.push_back({{"image", image.name},
                      {"digest", image.digest},
                      {"bytes", image.bytes},
                      {"users", image.users}});
    if (!global.json) {
      fmt::print("{}  {}  {}\n", sys::printable(image.name), image.digest, mib(image.bytes));
    }
  }
  if (global.json) {
    global.output->document = {{"registry", pulled->registry}, {"images", images}};
  }
  return {};
}

Status run_save(const GlobalOptions& global, const ImagesArgs& args) {
  auto saved = with_progress(global, args, &converge::save_images);
  if (!saved) {
    return saved.error();
  }
  if (global.json) {
    global.output->document = {
        {"bundle", args.file}, {"images", saved->images}, {"bytes", saved->bytes}};
  } else {
    fmt::print("{}: {} images, {}\n", sys::printable(args.file), saved->images, mib(saved->bytes));
  }
  return {};
}

Status run_load(const GlobalOptions& global, const ImagesArgs& args) {
  auto loaded = with_progress(global, args, &converge::load_images);
  if (!loaded) {
    return loaded.error();
  }
  if (global.json) {
    nlohmann::ordered_json images = nlohmann::ordered_json::array();
    for (const registry::BundleImage& image : loaded->images) {
      images.push_back({{"image", image.ref.name()}, {"digest", image.image.manifest.digest}});
    }
    global.output->document = {{"bundle", args.file}, {"images", images}, {"bytes", loaded->bytes}};
  } else {
    fmt::print("{}: {} images loaded into the classroom registry, {}\n", sys::printable(args.file),
               loaded->images.size(), mib(loaded->bytes));
  }
  return {};
}

void print_ls_json(const GlobalOptions& global, const converge::ImageListing& listing) {
  nlohmann::ordered_json cached = nlohmann::ordered_json::array();
  for (const converge::ListedImage& image : listing.cached) {
    cached.push_back({{"image", image.name},
                      {"digest", image.digest},
                      {"bytes", image.bytes},
                      {"complete", image.complete},
                      {"users", image.users}});
  }
  nlohmann::ordered_json missing = nlohmann::ordered_json::array();
  for (const converge::MissingImage& image : listing.missing) {
    missing.push_back(image.name);
  }
  global.output->document = {
      {"storage", listing.storage}, {"cached", cached}, {"missing", missing}};
}

Status run_ls(const GlobalOptions& global, const ImagesArgs& args) {
  auto lab = load(global);
  if (!lab) {
    return lab.error();
  }
  auto listing = converge::list_images(*lab, {args.teams, args.file, {}});
  if (!listing) {
    return listing.error();
  }
  if (global.json) {
    print_ls_json(global, *listing);
    return {};
  }
  std::vector<std::vector<std::string>> rows;
  for (const converge::ListedImage& image : listing->cached) {
    std::string who;
    for (const std::string& user : image.users) {
      who += (who.empty() ? "" : ", ") + user;
    }
    rows.push_back({sys::printable(image.name), image.complete ? mib(image.bytes) : "partial",
                    who.empty() ? "-" : sys::printable(who)});
  }
  print_table({"IMAGE", "SIZE", "USED BY"}, rows);
  for (const converge::MissingImage& image : listing->missing) {
    fmt::print("not cached: {} (used by {} instance(s); `labctl images pull`)\n",
               sys::printable(image.name), image.users.size());
  }
  return {};
}

}  // namespace

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
