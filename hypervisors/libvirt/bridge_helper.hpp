#pragma once

// Under qemu:///session, QEMU runs unprivileged and joins an existing host bridge through
// qemu-bridge-helper, which only allows the bridges that /etc/qemu/bridge.conf lists
// ("allow NAME" or "allow all", "include FILE") and must be able to read that file: it has
// to be readable by all (mode 644). Checked before anything is created, with the fix spelt out.

#include <filesystem>
#include <string>
#include <vector>

#include "provision/result.hpp"

namespace labctl::hv::libvirt {

constexpr const char* k_bridge_conf = "/etc/qemu/bridge.conf";

// qemu:///session, qemu+ssh://host/session, ...: the per-user libvirt daemon.
bool is_session_uri(const std::string& uri);

// Ok when every bridge in `bridges` is allowed by `conf` (and the files it includes) and
// `conf` is readable by all; else an Error naming the file and the exact lines to add.
Status check_bridge_helper(const std::vector<std::string>& bridges,
                           const std::filesystem::path& conf = k_bridge_conf);

}  // namespace labctl::hv::libvirt
