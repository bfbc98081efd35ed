#include <fmt/format.h>

#include "hypervisors/hyperv/powershell.hpp"
#include "hypervisors/hyperv/render.hpp"
#include "hypervisors/hyperv/script.hpp"
#include "hypervisors/limits.hpp"

namespace labctl::hv::hyperv {

namespace {

const model::Network* find_network(const model::Lab& lab, const model::Vm& vm,
                                   const std::string& name) {
  const model::Team* team = lab.find_team(vm.team);
  if (team != nullptr) {
    for (const model::Network& net : team->networks) {
      if (net.name == name) {
        return &net;
      }
    }
  }
  return nullptr;
}

// Hyper-V cannot boot a kernel from outside the disk (disk and efi are the same there: a
// Generation 2 VM boots the disk's EFI loader), and sizes memory in 2 MiB units.
// A cap that is not a whole number of units is refused rather than rounded: rounding would
// silently give the VM another cap than the lab file says.
Status check_vm(const model::Lab& lab, const model::Vm& vm) {
  if (lab.image.boot == model::BootMode::kernel) {
    return Error::failure(
        "Hyper-V cannot boot a kernel directly: set the image's boot to "
        "\"efi\" (a built image's EFI variant) or \"disk\" (a bootable EFI/GPT disk image)");
  }
  if (vm.memory == 0 || vm.memory % k_memory_unit != 0) {
    return Error::failure(
        fmt::format("VM {} memory {} bytes is not a multiple of 2 MiB, the "
                    "unit Hyper-V assigns memory in",
                    vm.name, vm.memory));
  }
  if (vm.memory > lab.memory_cap || vm.vcpus < 1) {
    return Error::failure(fmt::format("VM {} needs 1+ vCPUs and memory within the cap", vm.name));
  }
  return {};
}

void render_nics(Script& s, const model::Lab& lab, const model::Vm& vm) {
  // New-VM adds one unconnected adapter: replaced by one adapter per model NIC, in order.
  s.line("Get-VMNetworkAdapter -VM $vm | Remove-VMNetworkAdapter");
  for (const model::Nic& nic : vm.nics) {
    const model::Network* net = find_network(lab, vm, nic.network);
    if (net == nullptr) {
      s.check(
          Error::failure(fmt::format("NIC network {} is not in team {}", nic.network, vm.team)));
      continue;
    }
    s.check(check_name("NIC", nic.key));
    auto mac = mac_for_hyperv(nic.mac);
    s.check(mac ? Status() : Status(mac.error()));
    const bool bridged = net->kind == model::NetworkKind::bridge;
    const std::string& switch_name = bridged ? net->bridge : net->name;
    s.check(bridged ? check_host_name("bridge switch", switch_name)
                    : check_name("network", switch_name));
    s.line(fmt::format("Add-VMNetworkAdapter -VM $vm -Name {} -SwitchName {} -StaticMacAddress {}",
                       s.q(nic.key), s.q(switch_name), s.q(mac ? *mac : "")));
  }
}

std::string quoted_tag(Script& s, const Tag& tag) {
  auto text = format_tag(tag);
  s.check(text ? Status() : Status(text.error()));
  return s.q(text ? *text : "");
}

}  // namespace

model::BackendLimits limits() {
  model::BackendLimits limits;
  limits.name = "Hyper-V";
  limits.memory_unit = k_memory_unit;
  // A Generation 2 VM boots its disk's EFI loader: disk and efi are the same there.
  limits.boot_modes = {model::BootMode::disk, model::BootMode::efi};
  limits.network_kinds = {model::NetworkKind::nat, model::NetworkKind::isolated,
                          model::NetworkKind::bridge};
  limits.shared_nat = "NetNat";
  return limits;
}

Result<std::string> render_create_vm(const model::Lab& lab, const model::Vm& vm,
                                     std::string_view root) {
  Script s("create-vm", vm.name);
  s.check(check_name("VM", vm.name));
  s.check(check_name("classroom", lab.classroom));
  s.check(check_vm(lab, vm));
  s.check(check_file_name("disk volume", vm.disk_volume));
  s.check(check_file_name("seed volume", vm.seed_volume));
  s.line("$dir = " + s.q(classroom_dir(root, lab.classroom)));
  s.line("$disk = Join-Path $dir " + s.q(host_file_name(vm.disk_volume)));
  s.line("$seed = Join-Path $dir " + s.q(host_file_name(vm.seed_volume)));
  s.open("foreach ($file in @($disk, $seed)) {");
  s.open("if (-not (Test-Path -LiteralPath $file)) {");
  s.line("throw ('labctl: ' + $file + ' is missing: create the volumes first')");
  s.close().close();
  s.line(
      fmt::format("$vm = New-VM -Name {} -Generation 2 -MemoryStartupBytes {} -VHDPath $disk "
                  "-Path $dir",
                  s.q(vm.name), vm.memory));
  // Tagged at once with a placeholder spec: a VM left half-built by a failure is seen by
  // the next inventory, with a spec that never matches, and so recreated.
  s.line("Set-VM -VM $vm -Notes " +
         quoted_tag(s, {lab.classroom, vm.team, "domain", "pending", lab.identity}));
  // TurnOff on host shutdown: the default (Save) keeps a file as large as the VM's memory.
  s.line(
      "Set-VM -VM $vm -AutomaticCheckpointsEnabled $false -AutomaticStartAction Nothing "
      "-AutomaticStopAction TurnOff");
  s.line(
      fmt::format("Set-VMMemory -VM $vm -DynamicMemoryEnabled $false -StartupBytes {}", vm.memory));
  s.line(fmt::format("Set-VMProcessor -VM $vm -Count {}", vm.vcpus));
  // Secure Boot off: labctl's built images and custom kernels are not signed (see
  // docs/hyperv.md); the lab VMs are disposable.
  s.line("Set-VMFirmware -VM $vm -EnableSecureBoot Off");
  render_nics(s, lab, vm);
  // The serial console, for failures: COM1 on a named pipe that start-vm's capture reads.
  s.line("Set-VMComPort -VM $vm -Number 1 -Path " + s.q(console_pipe(vm.name)));
  s.line("Add-VMDvdDrive -VM $vm -Path $seed");
  s.line(
      "Set-VMFirmware -VM $vm -FirstBootDevice (Get-VMHardDiskDrive -VM $vm | "
      "Select-Object -First 1)");
  s.line("Set-VM -VM $vm -Notes " +
         quoted_tag(s, {lab.classroom, vm.team, "domain", vm.spec_hash, lab.identity}));
  return s.finish();
}

std::string console_pipe(std::string_view vm) {
  return "\\\\.\\pipe\\labctl-" + std::string(vm);
}

Result<std::string> render_console_capture(std::string_view vm, std::string_view console_log) {
  Script s("console", std::string(vm));
  s.check(check_name("VM", vm));
  s.line("$log = " + s.q(console_log));
  s.line("$pipe = [IO.Pipes.NamedPipeClientStream]::new('.', " + s.q("labctl-" + std::string(vm)) +
         ", [IO.Pipes.PipeDirection]::In)");
  // The pipe exists once the VM runs: started just before it, this waits for it.
  s.line("$deadline = (Get-Date).AddMinutes(2)");
  s.open("while (-not $pipe.IsConnected) {");
  s.open("try {");
  s.line("$pipe.Connect(1000)");
  s.next("} catch {");
  s.open("if ((Get-Date) -gt $deadline) {");
  s.line("throw");
  s.close();
  s.line("Start-Sleep -Milliseconds 500");
  s.close().close();
  s.line(
      "$out = [IO.FileStream]::new($log, [IO.FileMode]::Create, [IO.FileAccess]::Write, "
      "[IO.FileShare]::ReadWrite)");
  s.line("$buffer = New-Object byte[] 4096");
  s.open("try {");
  s.open("while (($count = $pipe.Read($buffer, 0, $buffer.Length)) -gt 0) {");
  s.line("$out.Write($buffer, 0, $count)");
  s.line("$out.Flush()");
  s.close();
  s.next("} finally {");
  s.line("$out.Dispose()");
  s.line("$pipe.Dispose()");
  s.close();
  return s.finish();
}

Result<std::string> render_start_vm(std::string_view name, std::string_view root,
                                    std::string_view console_log,
                                    const std::optional<RegistryRoute>& route) {
  Script s("start-vm", std::string(name));
  s.check(check_name("VM", name));
  // Again at each start: WSL's vEthernet, its forwarding and its address are new after WSL
  // restarts.
  forward_from_wsl(s, root, route);
  if (!console_log.empty()) {
    auto capture = render_console_capture(name, console_log);
    s.check(capture ? Status() : Status(capture.error()));
    auto encoded = capture ? encode_command(*capture) : Result<std::string>(std::string());
    s.check(encoded ? Status() : Status(encoded.error()));
    s.line(
        "Start-Process -FilePath 'powershell.exe' -WindowStyle Hidden -ArgumentList "
        "@('-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-EncodedCommand', " +
        s.q(encoded ? *encoded : "") + ")");
  }
  s.line("Start-VM -Name " + s.q(name));
  return s.finish();
}

Result<std::string> render_stop_vm(std::string_view name) {
  Script s("stop-vm", std::string(name));
  s.check(check_name("VM", name));
  s.line("$vm = Get-VM -Name " + s.q(name));
  s.open("if ($vm.State -ne 'Off') {");
  s.line("Stop-VM -VM $vm -TurnOff -Force");
  s.close();
  return s.finish();
}

Result<std::string> render_vm_state(std::string_view name) {
  Script s("vm-state", std::string(name));
  s.check(check_name("VM", name));
  s.line("$vm = Get-VM -Name " + s.q(name));
  s.line(
      "ConvertTo-Json -Depth 6 -Compress -InputObject ([pscustomobject]@{ Name = $vm.Name; "
      "State = [string]$vm.State })");
  return s.finish();
}

Result<std::string> render_delete_vm(std::string_view root, std::string_view classroom,
                                     std::string_view name) {
  Script s("delete-vm", std::string(name));
  s.check(check_name("VM", name));
  s.check(check_name("classroom", classroom));
  s.with_tag_function();
  s.line("$dir = [IO.Path]::GetFullPath(" + s.q(classroom_dir(root, classroom)) + ")");
  s.line("$vm = Get-VM -Name " + s.q(name) + " -ErrorAction SilentlyContinue");
  s.open("if ($null -ne $vm) {");
  s.open("if (-not (Test-LabctlTag $vm.Notes " + s.q(classroom) + ")) {");
  s.line(
      "throw ('labctl: VM ' + $vm.Name + ' does not carry this classroom''s tag; "
      "not deleting it')");
  s.close();
  s.line("$disks = @(Get-VMHardDiskDrive -VM $vm | ForEach-Object { $_.Path })");
  s.open("if ($vm.State -ne 'Off') {");
  s.line("Stop-VM -VM $vm -TurnOff -Force");
  s.close();
  s.line("Remove-VM -VM $vm -Force");
  // Remove-VM leaves the disks: removed here, but only inside the classroom's directory.
  s.open("foreach ($disk in $disks) {");
  s.open(
      "if ((Test-Path -LiteralPath $disk) -and "
      "[IO.Path]::GetDirectoryName([IO.Path]::GetFullPath($disk)) -eq $dir) {");
  s.line("Remove-Item -LiteralPath $disk -Force");
  s.close().close().close();
  return s.finish();
}

}  // namespace labctl::hv::hyperv
