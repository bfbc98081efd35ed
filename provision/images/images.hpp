#pragma once

// Base images: built from a recipe (debootstrap, see build-debian) or pulled from a URL,
// kept in a cache directory shared by every classroom on the host:
//   $LABCTL_CACHE_DIR or ~/.cache/labctl / images/<name>-<key 12 hex>/
//     disk.qcow2, vmlinux or vmlinuz, initrd.img (built images), recipe.json (written last).
// Built images boot with BootMode::kernel (direct kernel boot, root=/dev/vda: an ext4
// filesystem on the whole disk, no partition table) or, built with image.boot efi, with
// BootMode::efi (a GPT disk: ESP with systemd-boot, kernel and initrd; ext4 root labelled
// root; disk.qcow2 only). Pulled images are whole-disk cloud images with their own boot
// loader: they boot with BootMode::disk (or efi when the lab says so).

#include <cstdint>
#include <functional>
#include <string>

#include "provision/model/lab.hpp"
#include "provision/result.hpp"
#include "provision/sys/http.hpp"
#include "provision/sys/process.hpp"

namespace labctl::images {

struct ImagePaths {
  std::string dir;
  std::string disk;
  std::string kernel;  // "" unless boot == kernel
  std::string initrd;  // "" unless boot == kernel
  model::BootMode boot = model::BootMode::kernel;
};

using LogFn = std::function<void(const std::string& line)>;  // progress, for stderr

struct BuildOptions {
  std::string cache_dir;  // "" = default_cache_dir()
  std::string script;     // "" = find_build_script()
  bool verbose = false;   // let the script's own output reach stderr
  LogFn log;
};

struct PullOptions {
  std::string cache_dir;  // "" = default_cache_dir()
  sys::ProgressFn progress;
  LogFn log;
};

// $LABCTL_CACHE_DIR, else $HOME/.cache/labctl.
std::string default_cache_dir();

// The shipped build-debian: $LABCTL_DATA_DIR/images/build-debian, next to the executable
// (../share/labctl/images/), else the source tree's provision/images/build-debian.
Result<std::string> find_build_script();

// Returns the cached image when present; otherwise runs the build script (needs root:
// debootstrap and chroot). Concurrent builds of one recipe are serialised by a lock.
Result<ImagePaths> build_image(const model::Image& image, const BuildOptions& options,
                               sys::ProcessRunner& runner);

// Downloads image.url into the cache (resuming a partial download), verifies it against
// image.sha256 or the digest that image.checksum_url lists for the file's name.
Result<ImagePaths> pull_image(const model::Image& image, const PullOptions& options,
                              sys::HttpClient& http);

struct EnsureOptions {
  BuildOptions build;
  PullOptions pull;
};

// Pull when the image has a URL, build when it has a recipe.
Result<ImagePaths> ensure_image(const model::Image& image, const EnsureOptions& options,
                                sys::ProcessRunner& runner, sys::HttpClient& http);

}  // namespace labctl::images
