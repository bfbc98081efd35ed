#include "cloud-init/seed_iso.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "provision/sys/archive_write.hpp"

namespace labctl::cloudinit {

namespace fs = std::filesystem;

namespace {

struct ReadFree {
  void operator()(archive* a) const { archive_read_free(a); }
};

Error archive_error(const std::string& what, archive* a, const fs::path& path) {
  return sys::archive_error(what, a, path.string());
}

Status add_file(archive* a, const std::string& name, const std::string& content,
                const fs::path& path) {
  return sys::add_archive_entry(a, name, content, 0644, path.string());
}

Status write_iso(const fs::path& path, const SeedContents& files) {
  sys::ArchiveWriter a(archive_write_new());
  const std::string options = std::string("volume-id=") + k_seed_label + ",joliet,rockridge";
  if (archive_write_set_format_iso9660(a.get()) != ARCHIVE_OK ||
      archive_write_set_options(a.get(), options.c_str()) != ARCHIVE_OK ||
      archive_write_open_filename(a.get(), path.c_str()) != ARCHIVE_OK) {
    return archive_error("cannot create", a.get(), path);
  }
  for (const auto& [name, content] : files) {
    if (auto st = add_file(a.get(), name, content, path); !st) {
      return st;
    }
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK) {
    return archive_error("cannot finish", a.get(), path);
  }
  return {};
}

// Block devices and some hypervisors want whole 4 KiB blocks; libarchive stops at 2 KiB.
// Flushed before the rename publishes it.
Status pad_and_sync(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  struct stat st {};
  bool ok = fd >= 0 && ::fstat(fd, &st) == 0;
  if (ok) {
    const auto size = static_cast<std::uintmax_t>(st.st_size);
    const std::string zeros((k_seed_alignment - size % k_seed_alignment) % k_seed_alignment, '\0');
    ok = ::write(fd, zeros.data(), zeros.size()) == static_cast<ssize_t>(zeros.size()) &&
         ::fsync(fd) == 0;
  }
  if (fd >= 0 && ::close(fd) != 0) {
    ok = false;
  }
  if (!ok) {
    return Error::failure("cannot pad " + path.string() + ": " + std::strerror(errno));
  }
  return {};
}

// A fresh, unique name beside `path` (several seeds are written in parallel).
Result<fs::path> temp_beside(const fs::path& path) {
  std::string name = path.string() + ".tmp.XXXXXX";
  const int fd = ::mkstemp(name.data());
  if (fd < 0) {
    return Error::failure("cannot create a file beside " + path.string() + ": " +
                          std::strerror(errno));
  }
  ::close(fd);
  return fs::path(name);
}

Status verify(const fs::path& path, const SeedContents& expected) {
  auto actual = read_seed_iso(path);
  if (!actual) {
    return actual.error();
  }
  for (const auto& [name, content] : expected) {
    const auto found = actual->find(name);
    if (found == actual->end() || found->second != content) {
      return Error::failure(path.string() + ": " + name + " does not read back as written");
    }
  }
  return {};
}

Result<std::string> read_entry(archive* a, const fs::path& path) {
  std::string content;
  char buffer[16384];
  la_ssize_t n = 0;
  while ((n = archive_read_data(a, buffer, sizeof buffer)) > 0) {
    content.append(buffer, static_cast<std::size_t>(n));
  }
  if (n < 0) {
    return archive_error("cannot read", a, path);
  }
  return content;
}

}  // namespace

SeedContents render_seed(const model::Lab& lab, const model::Vm& vm, const SeedInputs& inputs) {
  return {{"meta-data", meta_data(lab, vm, inputs.generation)},
          {"network-config", network_config(vm)},
          {"user-data", user_data(lab, vm, inputs)}};
}

Status write_seed_iso(const fs::path& path, const SeedContents& files) {
  auto made = temp_beside(path);
  if (!made) {
    return made.error();
  }
  const fs::path temp = *made;
  Status st = write_iso(temp, files);
  if (st) {
    st = pad_and_sync(temp);
  }
  if (st) {
    st = verify(temp, files);
  }
  std::error_code ec;
  if (st) {
    fs::rename(temp, path, ec);
    if (!ec) {
      return {};
    }
    st = Error::failure("cannot publish " + path.string() + ": " + ec.message());
  }
  fs::remove(temp, ec);
  return st;
}

Result<SeedContents> read_seed_iso(const fs::path& path) {
  std::unique_ptr<archive, ReadFree> a(archive_read_new());
  archive_read_support_format_iso9660(a.get());
  if (archive_read_open_filename(a.get(), path.c_str(), 16384) != ARCHIVE_OK) {
    return archive_error("cannot open", a.get(), path);
  }
  SeedContents files;
  archive_entry* entry = nullptr;
  int rc = ARCHIVE_OK;
  while ((rc = archive_read_next_header(a.get(), &entry)) == ARCHIVE_OK) {
    if (archive_entry_filetype(entry) != AE_IFREG) {
      continue;
    }
    auto content = read_entry(a.get(), path);
    if (!content) {
      return content.error();
    }
    files[archive_entry_pathname(entry)] = std::move(*content);
  }
  if (rc != ARCHIVE_EOF) {
    return archive_error("cannot read", a.get(), path);
  }
  return files;
}

}  // namespace labctl::cloudinit
