#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "provision/images/cache.hpp"
#include "provision/images/checksums.hpp"
#include "provision/images/images.hpp"
#include "provision/sys/http.hpp"

namespace labctl::images {
namespace fs = std::filesystem;
namespace {

std::string to_string(DigestKind kind) {
  return kind == DigestKind::sha256 ? "sha256" : "sha512";
}

Result<ExpectedDigest> expected_digest(const model::Image& image, sys::HttpClient& http) {
  if (!image.sha256.empty()) {
    auto pinned = parse_digest(image.sha256);
    if (!pinned || pinned->kind != DigestKind::sha256) {
      return Error::failure("image " + image.name + ": sha256 is not 64 hex digits");
    }
    return *pinned;
  }
  if (image.checksum_url.empty()) {
    return Error::failure("image " + image.name +
                          ": give image.sha256 or image.checksums to verify " + image.url);
  }
  auto sums = sys::get_body(http, image.checksum_url);
  if (!sums) {
    return sums.error();
  }
  const std::string file = url_file_name(image.url);
  auto found = find_digest(*sums, file);
  if (!found) {
    return Error::failure(image.checksum_url + " lists no digest for " + file);
  }
  return *found;
}

// Pulled images keep their format; qcow2 files start with "QFI\xfb".
bool is_qcow2(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  in.read(magic, 4);
  return in.gcount() == 4 && std::string(magic, 4) == std::string("QFI\xfb", 4);
}

// A pulled image boots itself: from its disk, under UEFI when the lab says efi.
ImagePaths pulled_paths(const std::string& dir, model::BootMode boot) {
  const std::string disk =
      fs::exists(dir + "/disk.qcow2") ? dir + "/disk.qcow2" : dir + "/disk.raw";
  return ImagePaths{dir, disk, "", "",
                    boot == model::BootMode::efi ? model::BootMode::efi : model::BootMode::disk};
}

Status verify(const std::string& part, const ExpectedDigest& expected, const std::string& url) {
  auto actual = file_digest_hex(expected.kind, part);
  if (!actual) {
    return actual.error();
  }
  if (*actual != expected.hex) {
    std::error_code ec;
    fs::remove(part, ec);  // a bad file must not be resumed or used
    return Error::failure("checksum mismatch for " + url_file_name(url) + ": expected " +
                          to_string(expected.kind) + " " + expected.hex + ", got " + *actual);
  }
  return {};
}

Status finish_pull(const model::Image& image, const std::string& dir, const std::string& part,
                   const ExpectedDigest& expected) {
  const std::string disk = dir + (is_qcow2(part) ? "/disk.qcow2" : "/disk.raw");
  std::error_code ec;
  fs::rename(part, disk, ec);
  if (ec) {
    return Error::failure("cannot move " + part + " to " + disk + ": " + ec.message());
  }
  nlohmann::json recipe = {{"kind", "pull"},
                           {"name", image.name},
                           {"url", image.url},
                           {"checksum_url", image.checksum_url},
                           {to_string(expected.kind), expected.hex},
                           {"boot", "disk"}};
  return write_text(dir + "/recipe.json", recipe.dump(2) + "\n");
}

}  // namespace

Result<ImagePaths> pull_image(const model::Image& image, const PullOptions& options,
                              sys::HttpClient& http) {
  const std::string cache = options.cache_dir.empty() ? default_cache_dir() : options.cache_dir;
  const std::string dir = image_dir(cache, image.name, pull_key(image));
  auto lock = FileLock::acquire(dir + ".lock");
  if (!lock) {
    return lock.error();
  }
  if (fs::exists(dir + "/recipe.json")) {
    return pulled_paths(dir, image.boot);  // another classroom (or process) already pulled it
  }
  auto expected = expected_digest(image, http);
  if (!expected) {
    return expected.error();
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  const std::string part = dir + "/" + url_file_name(image.url) + ".part";
  if (options.log) {
    options.log((fs::exists(part) ? "resuming " : "downloading ") + image.url);
  }
  auto downloaded = http.download(image.url, part, options.progress);
  if (!downloaded) {
    return downloaded.error();  // the .part stays: the next pull resumes it
  }
  if (auto verified = verify(part, *expected, image.url); !verified) {
    return verified.error();
  }
  if (auto finished = finish_pull(image, dir, part, *expected); !finished) {
    return finished.error();
  }
  return pulled_paths(dir, image.boot);
}

Result<ImagePaths> ensure_image(const model::Image& image, const EnsureOptions& options,
                                sys::ProcessRunner& runner, sys::HttpClient& http) {
  if (!image.url.empty()) {
    return pull_image(image, options.pull, http);
  }
  if (!image.build.empty()) {
    return build_image(image, options.build, runner);
  }
  return Error::failure("image " + image.name + " has neither a url to pull nor a recipe to build");
}

}  // namespace labctl::images
