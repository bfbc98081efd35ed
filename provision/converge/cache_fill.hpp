#pragma once

// The classroom's container images as `up` fills the classroom registry with them, on the
// host, while the VMs boot (and as `labctl images` lists, pulls and saves them).

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "provision/model/lab.hpp"
#include "provision/registry/client.hpp"
#include "provision/registry/lab_images.hpp"
#include "provision/registry/supervise.hpp"

namespace labctl::converge {

// Every image the teams' instances need (all teams when `teams` is empty), with the proxy
// and autoheal images when the lab enables them; the instances as `squash add|rm` left them
// in the classroom's state (one that cannot be read is an error naming it).
Result<std::vector<registry::ImageUse>> needed_images(const model::Lab& lab,
                                                      const std::vector<std::string>& teams);

using FillProgress =
    std::function<void(const std::string& image, std::uint64_t done, std::uint64_t total)>;

// Fetches every blob of each image through the running registry (`settings`) and waits
// (bounded) until its storage holds it: a VM pulling afterwards is then served from the cache
// alone, and the upstream sees one fetch per image, however many VMs pull it. A blob already
// stored is skipped. Returns each image as resolved, in order.
Result<std::vector<registry::Image>> fill_cache(const registry::Settings& settings,
                                                const std::vector<registry::ImageUse>& uses,
                                                const FillProgress& progress);

}  // namespace labctl::converge
