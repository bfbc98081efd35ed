#include "hypervisors/libvirt/error_cause.hpp"

#include <cerrno>

namespace labctl::hv::libvirt {

namespace {

// apply::is_transient once matched libvirt's English text; each string it matched is one of
// these codes:
// - "Timed out during operation" is VIR_ERR_OPERATION_TIMEOUT's own text, and the QEMU
//   driver reports "cannot acquire state change lock" with that code when its wait for a
//   domain's job lock times out. (The same words with "due to max_queued limit" are
//   VIR_ERR_OPERATION_FAILED, a limit that is off by default; they are no longer retried.)
// - "Device or resource busy", "Resource busy" and "Resource temporarily unavailable" are
//   strerror(EBUSY) and strerror(EAGAIN), which a VIR_ERR_SYSTEM_ERROR carries as its errno.
// - "End of file while reading data" is the RPC layer's VIR_ERR_SYSTEM_ERROR for a
//   connection closed mid-call (no errno); a reset connection has errno ECONNRESET.
bool transient(int code, int domain, int sys_errno) {
  if (code == VIR_ERR_OPERATION_TIMEOUT) {
    return true;
  }
  if (code != VIR_ERR_SYSTEM_ERROR) {
    return false;
  }
  if (sys_errno == EBUSY || sys_errno == EAGAIN || sys_errno == ECONNRESET) {
    return true;
  }
  return domain == VIR_FROM_RPC && sys_errno <= 0;
}

}  // namespace

ErrorCause cause_of(int code, int domain, int sys_errno) {
  if (transient(code, domain, sys_errno)) {
    return ErrorCause::transient;
  }
  switch (code) {
    case VIR_ERR_NO_DOMAIN:
    case VIR_ERR_NO_NETWORK:
    case VIR_ERR_NO_STORAGE_POOL:
    case VIR_ERR_NO_STORAGE_VOL:
      return ErrorCause::not_found;
    case VIR_ERR_OPERATION_INVALID:
    case VIR_ERR_DOM_EXIST:
    case VIR_ERR_NETWORK_EXIST:
    case VIR_ERR_STORAGE_POOL_BUILT:
    case VIR_ERR_STORAGE_VOL_EXIST:
    case VIR_ERR_RESOURCE_BUSY:  // "resource is already in use": held by another object
      return ErrorCause::conflict;
    case VIR_ERR_NO_SUPPORT:
    case VIR_ERR_OPERATION_UNSUPPORTED:
    case VIR_ERR_CONFIG_UNSUPPORTED:
    case VIR_ERR_ARGUMENT_UNSUPPORTED:
      return ErrorCause::unsupported;
    default:
      return ErrorCause::other;
  }
}

ErrorCause cause_of(const virError* error) {
  if (error == nullptr) {
    return ErrorCause::other;
  }
  return cause_of(error->code, error->domain,
                  error->code == VIR_ERR_SYSTEM_ERROR ? error->int1 : -1);
}

}  // namespace labctl::hv::libvirt
