#include "provision/sys/archive_write.hpp"

namespace labctl::sys {

Error archive_error(const std::string& what, archive* a, const std::string& path) {
  const char* detail = archive_error_string(a);
  return Error::failure(what + " " + path + ": " + (detail != nullptr ? detail : "?"));
}

Status add_archive_entry(archive* a, const std::string& name, const std::string& content,
                         unsigned mode, const std::string& path, unsigned type) {
  std::unique_ptr<archive_entry, ArchiveEntryFree> entry(archive_entry_new());
  archive_entry_set_pathname(entry.get(), name.c_str());
  archive_entry_set_filetype(entry.get(), type);
  archive_entry_set_perm(entry.get(), mode);
  archive_entry_set_size(entry.get(), static_cast<la_int64_t>(content.size()));
  archive_entry_set_mtime(entry.get(), 0, 0);  // the same content gives the same archive
  if (archive_write_header(a, entry.get()) != ARCHIVE_OK) {
    return archive_error("cannot add " + name + " to", a, path);
  }
  if (!content.empty() && archive_write_data(a, content.data(), content.size()) !=
                              static_cast<la_ssize_t>(content.size())) {
    return archive_error("cannot write " + name + " to", a, path);
  }
  return {};
}

}  // namespace labctl::sys
