#pragma once

// What a libvirt error means to the core: its virErrorNumber (and, for system errors, the
// errno and the module that reported it) as an ErrorCause.

#include <libvirt/virterror.h>

#include "provision/result.hpp"

namespace labctl::hv::libvirt {

// `code` is a virErrorNumber, `domain` a virErrorDomain, `sys_errno` the errno of a
// VIR_ERR_SYSTEM_ERROR (virError's int1; -1 or 0 when there is none).
ErrorCause cause_of(int code, int domain, int sys_errno);

// The cause of libvirt's last error on this thread; `other` when there is none.
ErrorCause cause_of(const virError* error);

}  // namespace labctl::hv::libvirt
