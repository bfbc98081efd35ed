#pragma once

// Backends for the loader's tests: a permissive one, and for "hyperv://" URIs one with 2 MiB
// memory, no kernel boot, no ovs and a host-wide NAT, named as Hyper-V is (the real table is
// hv::backends(), pinned in hypervisors/limits_test.cpp).

#include <string>

#include "provision/model/limits.hpp"

namespace labctl::testing {

inline model::BackendLimits strict_backend() {
  model::BackendLimits limits;
  limits.name = "Hyper-V";
  limits.memory_unit = 2 * model::k_mib;
  limits.boot_modes = {model::BootMode::disk, model::BootMode::efi};
  limits.network_kinds = {model::NetworkKind::nat, model::NetworkKind::isolated,
                          model::NetworkKind::bridge};
  limits.shared_nat = "NetNat";
  return limits;
}

inline model::Backends two_backends() {
  model::BackendLimits plain;
  plain.name = "libvirt";
  return {{plain, strict_backend()}, [plain](const std::string& uri) {
            return uri.starts_with("hyperv://") ? strict_backend() : plain;
          }};
}

}  // namespace labctl::testing
