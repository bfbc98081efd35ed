// open_hypervisor (declared in hypervisor.hpp): the one place that picks a backend by URI.

#include <cstdlib>

#include "hypervisors/hypervisor.hpp"
#include "hypervisors/libvirt/backend.hpp"

namespace labctl::hv {

namespace {

bool is_hyperv(const std::string& uri) {
  return uri.starts_with("hyperv:");
}

// LABCTL_POOL_ROOT moves the directory under which labctl's pools live (tests, odd hosts).
libvirt::LibvirtOptions libvirt_options() {
  libvirt::LibvirtOptions options;
  if (const char* root = std::getenv("LABCTL_POOL_ROOT"); root != nullptr && *root != '\0') {
    options.pool_root = root;
  }
  return options;
}

}  // namespace

Result<std::unique_ptr<Hypervisor>> open_hypervisor(const std::string& uri) {
  if (is_hyperv(uri)) {
    return Error::failure("the Hyper-V backend is not built in yet");
  }
  auto opened = libvirt::LibvirtHypervisor::open(uri, libvirt_options());
  if (!opened) {
    return opened.error();
  }
  return std::unique_ptr<Hypervisor>(std::move(*opened));
}

}  // namespace labctl::hv
