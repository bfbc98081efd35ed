#pragma once

// NoCloud seed media written in-process with libarchive's ISO 9660 writer: volume id
// "cidata" (upper-cased to CIDATA in the primary descriptor, kept in Joliet's), Rock Ridge
// and Joliet names, the image padded to a multiple of 4 KiB. The media is read back before
// it is published, and published by rename, so a half-written seed is never attached.

#include <filesystem>
#include <map>
#include <string>

#include "cloud-init/render.hpp"
#include "provision/result.hpp"

namespace labctl::cloudinit {

inline constexpr const char* k_seed_label = "cidata";
inline constexpr std::uintmax_t k_seed_alignment = 4096;

// File name on the media -> content: "user-data", "meta-data", "network-config".
using SeedContents = std::map<std::string, std::string>;

// The three NoCloud documents for one VM.
SeedContents render_seed(const model::Lab& lab, const model::Vm& vm, const SeedInputs& inputs);

Status write_seed_iso(const std::filesystem::path& path, const SeedContents& files);
Result<SeedContents> read_seed_iso(const std::filesystem::path& path);

}  // namespace labctl::cloudinit
