#include <unistd.h>

#include <fmt/format.h>

#include "provision/cli/common.hpp"
#include "provision/images/images.hpp"
#include "provision/sys/http.hpp"
#include "provision/sys/process.hpp"

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
  model::Image image = lab->image;
  if (image.build.empty()) {
    return Error::usage(lab->file + ": image has no build recipe (it is pulled from a URL)");
  }
  if (args.with_given) {
    image.with = args.with;
  }
  images::BuildOptions options;
  options.verbose = args.verbose;
  options.log = [&global](const std::string& line) { notice(global, "image", line); };
  sys::SystemRunner runner;
  auto paths = images::build_image(image, options, runner);
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
  if (lab->image.url.empty()) {
    return Error::usage(lab->file + ": image has no url (it is built: `labctl image build`)");
  }
  images::PullOptions options;
  const bool tty = ::isatty(2) != 0 && !global.json;
  options.progress = [tty](std::uint64_t done, std::uint64_t total) {
    if (tty && total > 0) {
      fmt::print(stderr, "\r{:3}% {} / {} MiB", done * 100 / total, done >> 20, total >> 20);
    }
  };
  options.log = [&global](const std::string& line) { notice(global, "image", line); };
  sys::CurlHttpClient http;
  auto paths = images::pull_image(lab->image, options, http);
  if (tty) {
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
