#pragma once

// The Hyper-V backend (hyperv://, the local Windows host): hv::Hypervisor on top of the
// pure renderers (render.hpp), a PowerShellRunner and the JSON parsers (parse.hpp).

#include <functional>
#include <memory>
#include <string>

#include "hypervisors/hyperv/runner.hpp"
#include "hypervisors/hypervisor.hpp"
#include "provision/sys/process.hpp"

namespace labctl::hv::hyperv {

struct HypervOptions {
  std::string root;  // "" = k_default_root (C:\ProgramData\labctl)
  // Runs `qemu-img convert` on this machine when a qcow2 base image must become VHDX;
  // null = never convert (upload_volume of a qcow2 without a VHDX beside it is an Error).
  std::shared_ptr<sys::ProcessRunner> converter;
  // Turns a local file name into one Windows can open (labctl runs under WSL: /mnt/c/x ->
  // C:\x); empty = names are passed as they are.
  std::function<Result<std::string>(const std::string&)> windows_path;
  // This machine's own address toward `toward` (a nat gateway: a Windows address): under
  // WSL 2, WSL's address on its link to Windows, the next hop of Windows' route to the
  // classroom registry (render.hpp, RegistryRoute); empty = no such route is made.
  std::function<Result<std::string>(const std::string& toward)> wsl_address;
};

// A windows_path that asks WSL's `wslpath -w` through `processes`. A file that does not
// exist yet (a console log) is mapped through its directory.
std::function<Result<std::string>(const std::string&)> wslpath_mapper(
    std::shared_ptr<sys::ProcessRunner> processes);

// A wsl_address that asks `ip -4 -o route get <toward>` through `processes` for its source
// address (the one WSL's packets to the VMs carry).
std::function<Result<std::string>(const std::string&)> route_source_finder(
    std::shared_ptr<sys::ProcessRunner> processes);
// The "src" of one line of `ip -4 -o route get` output; an Error quoting it when absent.
Result<std::string> parse_route_source(const std::string& ip_output);

// What `hyperv://` runs with in production: labctl under WSL 2, so every local file is
// handed to PowerShell through wslpath_mapper(), qcow2 images are converted with qemu-img,
// and WSL's address comes from route_source_finder(); all through `processes` (the factory
// gives the system's).
HypervOptions wsl_options(std::shared_ptr<sys::ProcessRunner> processes);

std::unique_ptr<hv::Hypervisor> make_hyperv(std::string uri,
                                            std::unique_ptr<PowerShellRunner> runner);
std::unique_ptr<hv::Hypervisor> make_hyperv(std::string uri,
                                            std::unique_ptr<PowerShellRunner> runner,
                                            HypervOptions options);

// The VHDX file to upload for a qcow2 volume: `local_file` itself when it already is VHDX,
// else "<stem>.vhdx" beside it (converted with qemu-img through `converter` when missing).
Result<std::string> vhdx_source(const std::string& local_file, sys::ProcessRunner* converter);

}  // namespace labctl::hv::hyperv
