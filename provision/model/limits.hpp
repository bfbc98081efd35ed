#pragma once

// What a backend can make of a lab file: the unit it sizes memory in, the boot modes and
// network kinds it has, whether its NAT is host-wide. The hypervisor factory gives them per
// URI without connecting (hv::limits_of, hypervisors/limits.hpp); the loader checks a lab
// against them when it is given them, and `plan`/`up` check the teams a host runs against
// that host's.

#include <functional>
#include <string>
#include <vector>

#include "provision/model/lab.hpp"

namespace labctl::model {

struct BackendLimits {
  std::string name;       // how messages name the backend: "libvirt", "Hyper-V"
  Bytes memory_unit = 1;  // a VM's memory is a whole number of these
  std::vector<BootMode> boot_modes = {BootMode::kernel, BootMode::disk, BootMode::efi};
  std::vector<NetworkKind> network_kinds = {NetworkKind::nat, NetworkKind::isolated,
                                            NetworkKind::bridge, NetworkKind::ovs};
  // "" when each nat network has a NAT of its own; else the name of the one host-wide NAT
  // that the classroom's nat networks on a host share (Hyper-V: "NetNat"), whose prefix
  // (nat_prefix, addressing.hpp) must hold them all.
  std::string shared_nat;
};

// The backends a lab file is checked against when it is loaded. `of` gives the limits of the
// backend a host's URI names; `all` holds every backend labctl has: a lab file means the
// same on each, so its memory is checked against the largest unit any of them needs,
// whatever its hosts. Empty (the default): nothing about backends is checked.
struct Backends {
  std::vector<BackendLimits> all;
  std::function<BackendLimits(const std::string& uri)> of;
};

// How many host-wide NATs a host of this backend holds: 0 when each nat network has a NAT of
// its own (no limit), 1 when they share one (shared_nat). hv::Capabilities carries it.
int max_nat_networks(const BackendLimits& limits);

// The backend of `all` with the largest memory unit; nullptr when `all` is empty.
const BackendLimits* coarsest_memory(const std::vector<BackendLimits>& all);

// Why the backend cannot boot `mode` or make a network of `kind` ("" when it can), e.g.
// "boot kernel is not supported on Hyper-V: use disk or efi".
std::string boot_refusal(const BackendLimits& limits, BootMode mode);
std::string network_refusal(const BackendLimits& limits, NetworkKind kind);

}  // namespace labctl::model
