#pragma once

// RAII owners for libvirt's reference-counted objects, and libvirt errors as Error values.

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "hypervisors/libvirt/error_cause.hpp"
#include "provision/result.hpp"

namespace labctl::hv::libvirt {

struct ConnectCloser {
  void operator()(virConnectPtr p) const { virConnectClose(p); }
};
struct DomainFreer {
  void operator()(virDomainPtr p) const { virDomainFree(p); }
};
struct NetworkFreer {
  void operator()(virNetworkPtr p) const { virNetworkFree(p); }
};
struct PoolFreer {
  void operator()(virStoragePoolPtr p) const { virStoragePoolFree(p); }
};
struct VolumeFreer {
  void operator()(virStorageVolPtr p) const { virStorageVolFree(p); }
};
struct InterfaceFreer {
  void operator()(virInterfacePtr p) const { virInterfaceFree(p); }
};
struct StreamFreer {
  void operator()(virStreamPtr p) const { virStreamFree(p); }
};
struct MallocFreer {
  void operator()(void* p) const { std::free(p); }  // NOLINT: libvirt hands out malloc'd memory
};

using ConnectHandle = std::unique_ptr<virConnect, ConnectCloser>;
using DomainHandle = std::unique_ptr<virDomain, DomainFreer>;
using NetworkHandle = std::unique_ptr<virNetwork, NetworkFreer>;
using PoolHandle = std::unique_ptr<virStoragePool, PoolFreer>;
using VolumeHandle = std::unique_ptr<virStorageVol, VolumeFreer>;
using InterfaceHandle = std::unique_ptr<virInterface, InterfaceFreer>;
using StreamHandle = std::unique_ptr<virStream, StreamFreer>;
using CString = std::unique_ptr<char, MallocFreer>;

// Takes ownership of a malloc'd string from libvirt; "" for null.
inline std::string take_string(char* raw) {
  const CString owned(raw);
  return owned ? std::string(owned.get()) : std::string();
}

// "<what> <name>: <libvirt's last error on this thread>", with that error's cause.
inline Error libvirt_error(std::string_view what, std::string_view name) {
  return Error::failure(
      std::string(what) + " " + std::string(name) + ": " + virGetLastErrorMessage(),
      cause_of(virGetLastError()));
}

// libvirt reports the call as unsupported by this driver (e.g. test:///default).
inline bool last_error_is_unsupported() {
  return virGetLastErrorCode() == VIR_ERR_NO_SUPPORT;
}

}  // namespace labctl::hv::libvirt
