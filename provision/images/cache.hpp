#pragma once

// Cache helpers shared by build and pull: cache keys, digests, locks.

#include <cstddef>
#include <string>
#include <vector>

#include "provision/model/lab.hpp"
#include "provision/result.hpp"

namespace labctl::images {

enum class DigestKind { sha256, sha512 };

// Lower-case hex digest of a string / of a file's content (OpenSSL EVP).
std::string digest_hex(DigestKind kind, const std::string& data);
Result<std::string> file_digest_hex(DigestKind kind, const std::string& path);

// A digest of data that comes in pieces (a blob read out of a tar).
class DigestStream {
 public:
  explicit DigestStream(DigestKind kind);
  ~DigestStream();
  DigestStream(const DigestStream&) = delete;
  DigestStream& operator=(const DigestStream&) = delete;
  void update(const void* data, std::size_t size);
  std::string hex();  // lower case; call once, at the end

 private:
  void* m_ctx;  // EVP_MD_CTX
};

// "debian-12" -> "bookworm"; "" for an unknown recipe.
std::string release_for_recipe(const std::string& recipe);

// Cache key of a built image: changes iff the script or a recipe input changes (release,
// extras in any order, mirror). 12 hex characters.
std::string build_key(const model::Image& image, const std::string& script_text);

// Cache key of a pulled image: URL, pinned digest and checksum list URL.
std::string pull_key(const model::Image& image);

// "<cache>/images/<name>-<key>"
std::string image_dir(const std::string& cache_dir, const std::string& name,
                      const std::string& key);

// An exclusive flock(2) on a lock file, held until destruction. Serialises builds and
// downloads of one image across threads and processes (each lock opens its own file).
class FileLock {
 public:
  static Result<FileLock> acquire(const std::string& path);
  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&&) = delete;
  FileLock(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : m_fd(fd) {}
  int m_fd = -1;
};

Result<std::string> read_text(const std::string& path);
Status write_text(const std::string& path, const std::string& text);

}  // namespace labctl::images
