#include "provision/images/cache.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

namespace labctl::images {
namespace {

using MdCtx = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

const EVP_MD* md_for(DigestKind kind) {
  return kind == DigestKind::sha256 ? EVP_sha256() : EVP_sha512();
}

std::string to_hex(const unsigned char* bytes, unsigned int size) {
  static constexpr char k_digits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < size; ++i) {
    hex += k_digits[bytes[i] >> 4];
    hex += k_digits[bytes[i] & 0x0f];
  }
  return hex;
}

std::string finish(EVP_MD_CTX* ctx) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int size = 0;
  EVP_DigestFinal_ex(ctx, out.data(), &size);
  return to_hex(out.data(), size);
}

// Fields joined with a separator that cannot occur in them, so ("a","bc") != ("ab","c").
std::string join_fields(const std::vector<std::string>& fields) {
  std::string joined;
  for (const auto& field : fields) {
    joined += field;
    joined += '\0';
  }
  return joined;
}

}  // namespace

std::string digest_hex(DigestKind kind, const std::string& data) {
  MdCtx ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), md_for(kind), nullptr);
  EVP_DigestUpdate(ctx.get(), data.data(), data.size());
  return finish(ctx.get());
}

Result<std::string> file_digest_hex(DigestKind kind, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error::failure("cannot read " + path);
  }
  MdCtx ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), md_for(kind), nullptr);
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    EVP_DigestUpdate(ctx.get(), buffer.data(), static_cast<std::size_t>(in.gcount()));
  }
  return finish(ctx.get());
}

DigestStream::DigestStream(DigestKind kind) : m_ctx(EVP_MD_CTX_new()) {
  EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(m_ctx), md_for(kind), nullptr);
}

DigestStream::~DigestStream() {
  EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(m_ctx));
}

void DigestStream::update(const void* data, std::size_t size) {
  EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(m_ctx), data, size);
}

std::string DigestStream::hex() {
  return finish(static_cast<EVP_MD_CTX*>(m_ctx));
}

std::string release_for_recipe(const std::string& recipe) {
  if (recipe == "debian-12" || recipe == "bookworm") {
    return "bookworm";
  }
  if (recipe == "debian-13" || recipe == "trixie") {
    return "trixie";
  }
  return "";
}

std::string build_key(const model::Image& image, const std::string& script_text) {
  std::vector<std::string> with = image.with;
  std::sort(with.begin(), with.end());
  with.erase(std::unique(with.begin(), with.end()), with.end());
  std::vector<std::string> fields = {"build", digest_hex(DigestKind::sha256, script_text),
                                     release_for_recipe(image.build), image.mirror};
  fields.insert(fields.end(), with.begin(), with.end());
  // The disk layout: only efi differs from the kernel layout, whose keys stay as they were.
  if (image.boot == model::BootMode::efi) {
    fields.emplace_back("layout=efi");
  }
  return digest_hex(DigestKind::sha256, join_fields(fields)).substr(0, 12);
}

std::string pull_key(const model::Image& image) {
  return digest_hex(DigestKind::sha256,
                    join_fields({"pull", image.url, image.sha256, image.checksum_url}))
      .substr(0, 12);
}

std::string image_dir(const std::string& cache_dir, const std::string& name,
                      const std::string& key) {
  return (std::filesystem::path(cache_dir) / "images" / (name + "-" + key)).string();
}

Result<FileLock> FileLock::acquire(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Error::failure("cannot open lock " + path + ": " + std::strerror(errno));
  }
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno != EINTR) {
      ::close(fd);
      return Error::failure("cannot lock " + path + ": " + std::strerror(errno));
    }
  }
  return FileLock(fd);
}

FileLock::FileLock(FileLock&& other) noexcept : m_fd(other.m_fd) {
  other.m_fd = -1;
}

FileLock::~FileLock() {
  if (m_fd >= 0) {
    ::close(m_fd);  // releases the flock
  }
}

Result<std::string> read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error::failure("cannot read " + path);
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Status write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) {
    return Error::failure("cannot write " + path);
  }
  return {};
}

}  // namespace labctl::images
