#pragma once

// What every archive labctl writes with libarchive shares (seed ISOs, image bundles, hand-out
// archives): owning handles, errors that name the archive, and entries with fixed times so
// that the same content gives the same archive.

#include <archive.h>
#include <archive_entry.h>

#include <memory>
#include <string>

#include "provision/result.hpp"

namespace labctl::sys {

struct ArchiveWriteFree {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct ArchiveEntryFree {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};
using ArchiveWriter = std::unique_ptr<archive, ArchiveWriteFree>;

// "<what> <path>: <libarchive's message>".
Error archive_error(const std::string& what, archive* a, const std::string& path);

// One entry `name` (a regular file, or with type AE_IFDIR a directory) holding `content`,
// mtime 0. `path` names the archive in errors.
Status add_archive_entry(archive* a, const std::string& name, const std::string& content,
                         unsigned mode, const std::string& path, unsigned type = AE_IFREG);

}  // namespace labctl::sys
