#pragma once

// Pure renderers: model -> one PowerShell script per action (see script.hpp for the frame).
// Every value goes through ps_quote(); every name is checked again and a bad one is an Error.
//
// Storage layout on the Windows host: a classroom's "pool" is the directory
// <root>\<classroom> holding a marker file .labctl-pool (its tag) and the volumes.
// Volume names are the model's; a ".qcow2" name is stored as ".vhdx" (Hyper-V reads VHDX
// only, and New-VHD picks the format from the extension).

#include <optional>
#include <string>
#include <string_view>

#include "hypervisors/hypervisor.hpp"
#include "provision/model/lab.hpp"
#include "provision/result.hpp"

namespace labctl::hv::hyperv {

constexpr std::string_view k_default_root = "C:\\ProgramData\\labctl";
constexpr std::string_view k_pool_marker = ".labctl-pool";
// Hyper-V sizes VM memory in whole 2 MiB units.
constexpr model::Bytes k_memory_unit = 2 * model::k_mib;

std::string classroom_dir(std::string_view root, std::string_view classroom);
// The model names a classroom's pool "<classroom>-pool".
Result<std::string> classroom_of_pool(std::string_view pool);
std::string host_file_name(std::string_view volume);  // "x.qcow2" -> "x.vhdx"
std::string volume_name(std::string_view file);       // "x.vhdx" -> "x.qcow2"

// WSL 2 reaches the VMs on labctl's nat (Internal) switches through this host: IP forwarding
// on WSL's vEthernet and on each such switch's vEthernet. The WSL interfaces labctl turned
// it on for are listed in <root>\wsl-forwarding.txt, so that the last labctl nat switch's
// deletion turns it off there again (and only there).
constexpr std::string_view k_forwarding_record = "wsl-forwarding.txt";

// The classroom registry (provision/registry/) listens in WSL 2 on a host-only address; a VM
// on a nat switch sends to its gateway, Windows, which needs a route there through WSL:
// <address>/32 via WSL's own address on its link to Windows. A route labctl made is listed
// in <root>\wsl-route.txt, so that the last labctl nat switch's deletion removes it (and
// only it: a route to that address that labctl did not make is left as it is).
struct RegistryRoute {
  std::string address;   // the registry's: "10.255.255.1"
  std::string next_hop;  // WSL's address toward Windows: "172.29.18.5"
};
constexpr std::string_view k_route_record = "wsl-route.txt";

class Script;
// With a route: also adds it, or points it at `next_hop` again when WSL's address changed.
void forward_from_wsl(Script& s, std::string_view root,
                      const std::optional<RegistryRoute>& route = std::nullopt);

// The classroom's one NetNat: a NetNat has no Notes, it is the classroom's by this name.
std::string nat_name(std::string_view classroom);  // "cd26" -> "cd26-nat"

// A nat network's script also lets WSL 2 reach it, and with a route its VMs reach the
// classroom registry (forward_from_wsl above); the last labctl nat switch's deletion undoes
// what those changed (render_network.cpp).
Result<std::string> render_create_network(const model::Lab& lab, const model::Network& net,
                                          std::string_view root = k_default_root,
                                          const std::optional<RegistryRoute>& route = {});
Result<std::string> render_delete_network(std::string_view classroom, std::string_view name,
                                          std::string_view root = k_default_root);

Result<std::string> render_create_pool(std::string_view root, std::string_view classroom);
Result<std::string> render_delete_pool(std::string_view root, std::string_view classroom);
// Copies a local file (already VHDX for disks) into the classroom's directory.
Result<std::string> render_upload_volume(std::string_view root, std::string_view classroom,
                                         std::string_view volume, std::string_view local_path);
Result<std::string> render_create_overlay(std::string_view root, std::string_view classroom,
                                          std::string_view volume, std::string_view backing,
                                          model::Bytes capacity);
Result<std::string> render_delete_volume(std::string_view root, std::string_view classroom,
                                         std::string_view volume);

Result<std::string> render_create_vm(const model::Lab& lab, const model::Vm& vm,
                                     std::string_view root);
// Starts the VM; with a console log (a Windows path), first starts the hidden PowerShell
// that copies the VM's COM1 pipe into it (render_console_capture). Before it, forwarding
// and the registry's route again (forward_from_wsl): WSL restarts with a new interface and
// address.
Result<std::string> render_start_vm(std::string_view name, std::string_view root = k_default_root,
                                    std::string_view console_log = {},
                                    const std::optional<RegistryRoute>& route = {});
// The VM's COM1 is the named pipe \\.\pipe\labctl-<vm> (set by render_create_vm).
std::string console_pipe(std::string_view vm);
// Copies the VM's COM1 pipe into `console_log` as it comes, from the VM's start to its stop
// (waiting up to 2 minutes for the pipe); the file starts empty at each start, like
// libvirt's serial log.
Result<std::string> render_console_capture(std::string_view vm, std::string_view console_log);
Result<std::string> render_stop_vm(std::string_view name);
Result<std::string> render_vm_state(std::string_view name);
Result<std::string> render_delete_vm(std::string_view root, std::string_view classroom,
                                     std::string_view name);

// `--adopt`: rewrites the Notes of one of the classroom's VMs (ObjectKind::domain) or
// switches (network) with `tag`; refused when it does not carry the classroom's tag.
Result<std::string> render_retag(std::string_view classroom, ObjectKind kind, std::string_view name,
                                 const Tag& tag);

// Students' access (render_access.cpp): the team's endpoints as static mappings on the
// classroom's NetNat, replacing the team's earlier ones; and their removal. The team's are
// those its record file in the classroom's directory lists (access_record).
std::string access_record(std::string_view team);  // ".access-team3"
Result<std::string> render_publish(const model::Lab& lab, const std::string& team,
                                   std::string_view root = k_default_root);
Result<std::string> render_unpublish(std::string_view classroom, std::string_view team,
                                     std::string_view root = k_default_root);

// Queries: each prints one JSON document (ConvertTo-Json -Depth 6 -Compress) on stdout.
Result<std::string> render_inventory(std::string_view root, std::string_view classroom);
Result<std::string> render_host_info();
Result<std::string> render_host_networks();

}  // namespace labctl::hv::hyperv
