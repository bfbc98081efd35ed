// `labctl image build|pull`: the VMs' base images (converge/base_image.hpp), printed here.

#include <unistd.h>

#include <optional>

#include <fmt/format.h>

#include "provision/cli/common.hpp"
#include "provision/converge/base_image.hpp"

namespace labctl::cli {

namespace {

struct ImageArgs {
  std::vector<std::string> with;
  bool with_given = false;
  bool verbose = false;
};

void print_paths(const GlobalOptions& global, const images::ImagePaths& paths) {
  if (global.json) {
    global.output->document = {{"image", paths.dir},
                               {"disk", paths.disk},
                               {"kernel", paths.kernel},
                               {"initrd", paths.initrd},
                               {"boot", model::to_string(paths.boot)}};
    return;
  }
  fmt::print("image: {}\ndisk: {}\n", paths.dir, paths.disk);
  if (paths.boot == model::BootMode::kernel) {
    fmt::print("kernel: {}\ninitrd: {}\nboot: kernel (direct kernel boot)\n", paths.kernel,
               paths.initrd);
  } else {
    fmt::print("boot: {}\n", model::to_string(paths.boot));
  }
}

Status run_build(const GlobalOptions& global, const ImageArgs& args) {
  auto lab = load(global);
  if (!lab) {
    return lab.error();
  }
  const auto with = args.with_given ? std::optional(args.with) : std::nullopt;
  auto paths = converge::build_base_image(
      *lab, with, args.verbose,
      [&global](const std::string& line) { notice(global, "image", line); });
  if (!paths) {
    return paths.error();
  }
  print_paths(global, *paths);
  return {};
}

Status run_pull(const GlobalOptions& global) {
  auto lab = load(global);
  if (!lab) {
    return lab.error();
  }
  const bool tty = ::isatty(2) != 0 && !global.json;
  auto paths = converge::pull_base_image(
      *lab,
      [tty](std::uint64_t done, std::uint64_t total) {
        if (tty && total > 0) {
          fmt::print(stderr, "\r{:3}% {} / {} MiB", done * 100 / total, done >> 20, total >> 20);
        }
      },
      [&global](const std::string& line) { notice(global, "image", line); });
  if (tty && !lab->image.url.empty()) {  // ends the progress; a refused pull printed none
    fmt::print(stderr, "\n");
  }
  if (!paths) {
    return paths.error();
  }
  print_paths(global, *paths);
  return {};
}

}  // namespace

void add_image(Registry r) {
  auto* image = r.app.add_subcommand("image", "Base images: build from a Debian mirror, or pull");
  image->require_subcommand(1);
  auto args = std::make_shared<ImageArgs>();
  auto* build = image->add_subcommand("build", "Build the lab's image with debootstrap (cached)");
  build->add_option("--with", args->with, "Extras baked in (docker)")
      ->each([args](const std::string&) { args->with_given = true; });
  build->add_flag("-v,--verbose", args->verbose, "Show the build's own output");
  build->callback([r, args] { r.command = [r, args] { return run_build(r.global, *args); }; });
  auto* pull = image->add_subcommand("pull", "Download the lab's image, verify, cache");
  pull->callback([r] { r.command = [r] { return run_pull(r.global); }; });
}

}  // namespace labctl::cli
