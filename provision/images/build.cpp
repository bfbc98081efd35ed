#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "provision/images/cache.hpp"
#include "provision/images/images.hpp"

namespace labctl::images {
namespace fs = std::filesystem;
namespace {

constexpr const char* k_default_mirror = "http://deb.debian.org/debian";

void log_line(const LogFn& log, const std::string& line) {
  if (log) {
    log(line);
  }
}

std::string mirror_of(const model::Image& image) {
  return image.mirror.empty() ? k_default_mirror : image.mirror;
}

// The paths of a finished build directory; the uncompressed kernel when there is one. An
// efi image boots itself: its kernel and initrd are on its own ESP.
ImagePaths built_paths(const std::string& dir, model::BootMode boot) {
  if (boot == model::BootMode::efi) {
    return ImagePaths{dir, dir + "/disk.qcow2", "", "", boot};
  }
  ImagePaths paths{dir, dir + "/disk.qcow2", dir + "/vmlinux", dir + "/initrd.img", boot};
  if (!fs::exists(paths.kernel)) {
    paths.kernel = dir + "/vmlinuz";
  }
  return paths;
}

std::string build_recipe_json(const model::Image& image, const std::string& key,
                              const std::string& script_text) {
  nlohmann::json recipe = {
      {"kind", "build"},
      {"name", image.name},
      {"recipe", image.build},
      {"release", release_for_recipe(image.build)},
      {"with", image.with},
      {"mirror", mirror_of(image)},
      {"key", key},
      {"script_sha256", digest_hex(DigestKind::sha256, script_text)},
      {"boot", model::to_string(image.boot)},
      {"cmdline", image.cmdline},
  };
  return recipe.dump(2) + "\n";
}

std::vector<std::string> script_argv(const std::string& script, const model::Image& image,
                                     const std::string& out, const std::string& cache_dir) {
  std::vector<std::string> argv = {"bash",        script,
                                   "--out",       out,
                                   "--release",   release_for_recipe(image.build),
                                   "--mirror",    mirror_of(image),
                                   "--stage-dir", (fs::path(cache_dir) / "stages").string()};
  for (const auto& extra : image.with) {
    argv.push_back("--with");
    argv.push_back(extra);
  }
  if (image.boot == model::BootMode::efi) {
    argv.insert(argv.end(), {"--boot", "efi"});
  }
  return argv;
}

Status run_build(const model::Image& image, const BuildOptions& options, sys::ProcessRunner& runner,
                 const std::string& script, const std::string& dir, const std::string& cache_dir) {
  const std::string tmp = dir + ".tmp";
  std::error_code ec;
  fs::remove_all(tmp, ec);  // a build that died half-way
  sys::ProcessOptions process;
  process.passthrough_stderr = options.verbose;
  auto result = runner.run(script_argv(script, image, tmp, cache_dir), process);
  if (!result) {
    return result.error();
  }
  if (result->exit_code != 0) {
    fs::remove_all(tmp, ec);
    std::string last = result->err;
    while (!last.empty() && last.back() == '\n') {
      last.pop_back();
    }
    last = last.substr(last.find_last_of('\n') + 1);
    return Error::failure("image build " + image.name + " failed: " + last);
  }
  return {};
}

}  // namespace

std::string default_cache_dir() {
  if (const char* dir = std::getenv("LABCTL_CACHE_DIR"); dir != nullptr && *dir != '\0') {
    return dir;
  }
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr ? home : "/root") + "/.cache/labctl";
}

Result<std::string> find_build_script() {
  std::vector<fs::path> candidates;
  if (const char* data = std::getenv("LABCTL_DATA_DIR"); data != nullptr && *data != '\0') {
    candidates.push_back(fs::path(data) / "images" / "build-debian");
  }
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    candidates.push_back(exe.parent_path() / ".." / "share" / "labctl" / "images" / "build-debian");
  }
  candidates.push_back(fs::path(LABCTL_SOURCE_DIR) / "provision" / "images" / "build-debian");
  for (const auto& candidate : candidates) {
    if (fs::exists(candidate, ec)) {
      return candidate.lexically_normal().string();
    }
  }
  return Error::failure("build-debian not found (set LABCTL_DATA_DIR)");
}

Result<ImagePaths> build_image(const model::Image& image, const BuildOptions& options,
                               sys::ProcessRunner& runner) {
  if (release_for_recipe(image.build).empty()) {
    return Error::failure("unknown image recipe '" + image.build + "' (known: debian-12)");
  }
  auto script = options.script.empty() ? find_build_script() : Result<std::string>(options.script);
  if (!script) {
    return script.error();
  }
  auto script_text = read_text(*script);
  if (!script_text) {
    return script_text.error();
  }
  const std::string cache = options.cache_dir.empty() ? default_cache_dir() : options.cache_dir;
  const std::string key = build_key(image, *script_text);
  const std::string dir = image_dir(cache, image.name, key);
  auto lock = FileLock::acquire(dir + ".lock");
  if (!lock) {
    return lock.error();
  }
  if (fs::exists(dir + "/recipe.json")) {
    return built_paths(dir, image.boot);
  }
  if (::geteuid() != 0) {
    return Error::failure("image build needs root (debootstrap, chroot); or pull an image");
  }
  log_line(options.log, "building image " + image.name + " (" + key +
                            "): debootstrap, about 3 minutes the first time");
  if (auto built = run_build(image, options, runner, *script, dir, cache); !built) {
    return built.error();
  }
  // recipe.json last, then one rename: a directory that exists is a complete image.
  if (auto wrote =
          write_text(dir + ".tmp/recipe.json", build_recipe_json(image, key, *script_text));
      !wrote) {
    return wrote.error();
  }
  std::error_code ec;
  fs::rename(dir + ".tmp", dir, ec);
  if (ec) {
    return Error::failure("cannot move the built image to " + dir + ": " + ec.message());
  }
  log_line(options.log, "image " + image.name + " ready in " + dir);
  return built_paths(dir, image.boot);
}

}  // namespace labctl::images
