#pragma once

// Writes a team's hand-out files (handout_render.hpp) where the instructor asked: a
// directory per team, or one gzip'ed tar per team (libarchive) holding that directory.

#include <filesystem>
#include <string>
#include <vector>

#include "provision/cli/handout_render.hpp"
#include "provision/result.hpp"

namespace labctl::cli {

// `dir` is created (0700: the team's private key is in it) and the files written in it.
Status write_handout_dir(const std::filesystem::path& dir, const std::vector<HandoutFile>& files);
// `archive` (.tar.gz) holds `top`/ and the files in it, with their modes.
Status write_handout_archive(const std::filesystem::path& archive, const std::string& top,
                             const std::vector<HandoutFile>& files);

}  // namespace labctl::cli
