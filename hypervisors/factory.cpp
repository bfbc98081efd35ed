// open_hypervisor (declared in hypervisor.hpp): the one place that picks a backend by URI.

#include <cstdlib>

#include "hypervisors/hyperv/backend.hpp"
#include "hypervisors/hyperv/runner.hpp"
#include "hypervisors/hypervisor.hpp"
#include "hypervisors/libvirt/backend.hpp"
#include "provision/sys/process.hpp"

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

// A dry run converts nothing: the conversion `up` would run is assumed to succeed, and the
// scripts name the VHDX it would produce.
class NoConversion : public sys::ProcessRunner {
 public:
  using sys::ProcessRunner::run;
  Result<sys::ProcessResult> run(const std::vector<std::string>&,
                                 const sys::ProcessOptions&) override {
    return sys::ProcessResult{};
  }
};

}  // namespace

Result<std::unique_ptr<Hypervisor>> open_hypervisor(const std::string& uri) {
  if (is_hyperv(uri)) {
    hyperv::HypervOptions options;
    options.converter = std::make_unique<sys::SystemRunner>();
    return hyperv::make_hyperv(uri, hyperv::make_powershell_runner(), std::move(options));
  }
  auto opened = libvirt::LibvirtHypervisor::open(uri, libvirt_options());
  if (!opened) {
    return opened.error();
  }
  return std::unique_ptr<Hypervisor>(std::move(*opened));
}

Result<ScriptedDryRun> open_dry_run(const std::string& uri) {
  if (!is_hyperv(uri)) {
    return Error::usage(uri +
                        ": libvirt hosts are driven through its API, not scripts: "
                        "`labctl plan` shows the actions");
  }
  auto runner = std::make_unique<hyperv::RecordingRunner>();
  const hyperv::RecordingRunner* recorded = runner.get();
  ScriptedDryRun dry;
  hyperv::HypervOptions options;
  options.converter = std::make_unique<NoConversion>();
  dry.hypervisor = hyperv::make_hyperv(uri, std::move(runner), std::move(options));
  dry.scripts = [recorded] { return recorded->scripts(); };
  return dry;
}

}  // namespace labctl::hv
