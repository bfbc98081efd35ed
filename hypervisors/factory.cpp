// open_hypervisor (declared in hypervisor.hpp): the one place that picks a backend by URI.

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <functional>

#include "hypervisors/hyperv/backend.hpp"
#include "hypervisors/hyperv/runner.hpp"
#include "hypervisors/hyperv/session.hpp"
#include "hypervisors/hypervisor.hpp"
#include "hypervisors/libvirt/backend.hpp"
#include "hypervisors/libvirt/bridge_helper.hpp"
#include "hypervisors/limits.hpp"
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

// A dry run shows the route to the classroom registry with this machine's address toward the
// lab's nat gateway, as `up` would under WSL; where there is none (no route, no `ip`: not
// WSL), with TEST-NET-1's 192.0.2.1 (RFC 5737) in its place.
std::function<Result<std::string>(const std::string&)> dry_run_wsl_address() {
  auto finder = hyperv::route_source_finder(std::make_shared<sys::SystemRunner>());
  return [finder](const std::string& toward) -> Result<std::string> {
    auto found = finder(toward);
    return found ? found : Result<std::string>(std::string("192.0.2.1"));
  };
}

}  // namespace

Result<std::unique_ptr<Hypervisor>> open_hypervisor(const std::string& uri) {
  if (is_hyperv(uri)) {
    // labctl runs under WSL 2 there: local files reach PowerShell as Windows paths.
    return hyperv::make_hyperv(uri, hyperv::make_powershell_runner(),
                               hyperv::wsl_options(std::make_shared<sys::SystemRunner>()));
  }
  auto opened = libvirt::LibvirtHypervisor::open(uri, libvirt_options());
  if (!opened) {
    return opened.error();
  }
  return std::unique_ptr<Hypervisor>(std::move(*opened));
}

model::BackendLimits limits_of(const std::string& uri) {
  return is_hyperv(uri) ? hyperv::limits() : libvirt::limits();
}

model::Backends backends() {
  return {{libvirt::limits(), hyperv::limits()}, &limits_of};
}

Status check_host_setup(const std::string& uri, const std::vector<const model::Team*>& teams) {
  if (is_hyperv(uri) || !libvirt::is_session_uri(uri) || uri.find(":///") == std::string::npos) {
    return {};  // a remote host's /etc/qemu cannot be read from here
  }
  std::vector<std::string> bridges;
  for (const model::Team* team : teams) {
    for (const model::Network& net : team->networks) {
      if (net.kind == model::NetworkKind::bridge &&
          std::find(bridges.begin(), bridges.end(), net.bridge) == bridges.end()) {
        bridges.push_back(net.bridge);
      }
    }
  }
  const char* conf = std::getenv("LABCTL_BRIDGE_CONF");  // tests and unusual installs
  return libvirt::check_bridge_helper(bridges, conf != nullptr && *conf != '\0'
                                                   ? std::filesystem::path(conf)
                                                   : std::filesystem::path(libvirt::k_bridge_conf));
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
  options.wsl_address = dry_run_wsl_address();
  dry.hypervisor = hyperv::make_hyperv(uri, std::move(runner), std::move(options));
  dry.scripts = [recorded] { return recorded->scripts(); };
  return dry;
}

}  // namespace labctl::hv
