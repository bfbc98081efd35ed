#pragma once

// Each backend's limits (model/limits.hpp), known without connecting: what `validate`,
// `plan` and `up` check a lab against. The factory (factory.cpp) picks by URI, as
// open_hypervisor does.

#include <string>

#include "provision/model/limits.hpp"

namespace labctl::hv {

namespace libvirt {
model::BackendLimits limits();
}  // namespace libvirt

namespace hyperv {
model::BackendLimits limits();
}  // namespace hyperv

// The limits of the backend that open_hypervisor(uri) would open.
model::BackendLimits limits_of(const std::string& uri);

// Every backend's limits, and limits_of: what model::load_lab checks a lab file against.
model::Backends backends();

}  // namespace labctl::hv
