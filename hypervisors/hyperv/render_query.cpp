#include <fmt/format.h>

#include "hypervisors/hyperv/powershell.hpp"
#include "hypervisors/hyperv/render.hpp"
#include "hypervisors/hyperv/script.hpp"

namespace labctl::hv::hyperv {

// Enum properties (State, SwitchType) are cast to [string] before ConvertTo-Json, which in
// Windows PowerShell 5.1 would write them as numbers; the parser accepts both anyway.
// Lists are wrapped in @() so that one element stays a JSON array.
Result<std::string> render_inventory(std::string_view root, std::string_view classroom) {
  Script s("inventory", std::string(classroom));
  s.check(check_name("classroom", classroom));
  s.with_tag_function();
  s.line("$classroom = " + s.q(classroom));
  s.line("$dir = " + s.q(classroom_dir(root, classroom)));
  s.line("$marker = Join-Path $dir " + s.q(k_pool_marker));
  s.open(
      "$vms = @(Get-VM | Where-Object { Test-LabctlTag $_.Notes $classroom } | ForEach-Object {");
  s.line("[pscustomobject]@{ Name = $_.Name; State = [string]$_.State; Notes = $_.Notes;");
  s.line("  MemoryStartup = $_.MemoryStartup; ProcessorCount = $_.ProcessorCount }");
  s.close("})");
  // The classroom's NetNat has no Notes: it is found by its name (render.hpp, nat_name).
  s.line("$nat = Get-NetNat -Name " + s.q(nat_name(classroom)) +
         " -ErrorAction SilentlyContinue | Select-Object -First 1");
  s.open(
      "$switches = @(Get-VMSwitch | Where-Object { Test-LabctlTag $_.Notes $classroom } | "
      "ForEach-Object {");
  s.line(
      "$ip = Get-NetIPAddress -InterfaceAlias ('vEthernet (' + $_.Name + ')') -AddressFamily "
      "IPv4 -ErrorAction SilentlyContinue | Select-Object -First 1");
  s.line(
      "[pscustomobject]@{ Name = $_.Name; SwitchType = [string]$_.SwitchType; Notes = $_.Notes;");
  s.line("  Address = $(if ($ip) { $ip.IPAddress + '/' + $ip.PrefixLength } else { '' }) }");
  s.close("})");
  // Names held by anything else (conflicts), and the External switches a bridge network joins.
  s.line(
      "$otherVms = @(Get-VM | Where-Object { -not (Test-LabctlTag $_.Notes $classroom) } | "
      "ForEach-Object { [pscustomobject]@{ Name = $_.Name; Notes = $_.Notes } })");
  s.line(
      "$otherSwitches = @(Get-VMSwitch | Where-Object { -not (Test-LabctlTag $_.Notes "
      "$classroom) } |");
  s.line(
      "  ForEach-Object { [pscustomobject]@{ Name = $_.Name; SwitchType = [string]$_.SwitchType; "
      "Notes = $_.Notes } })");
  s.line(
      "$natInfo = $(if ($nat) { [pscustomobject]@{ Name = $nat.Name; Prefix = "
      "$nat.InternalIPInterfaceAddressPrefix } } else { $null })");
  s.line(
      "$pool = (Test-Path -LiteralPath $marker) -and "
      "(Test-LabctlTag (Get-Content -LiteralPath $marker -Raw) $classroom)");
  s.line("$files = @()");
  s.open("if ($pool) {");
  s.line(
      "$files = @(Get-ChildItem -LiteralPath $dir -File | Where-Object { -not "
      "$_.Name.StartsWith('.') } |");
  s.line("  ForEach-Object { [pscustomobject]@{ Name = $_.Name; Length = $_.Length } })");
  s.close();
  // Students' access: each team's record (render_access.cpp) and how many of the mappings it
  // lists the NetNat still has.
  s.line("$access = @()");
  s.open("if ($pool) {");
  s.line("$mapped = @(Get-NetNatStaticMapping -NatName " + s.q(nat_name(classroom)) +
         " -ErrorAction SilentlyContinue | ForEach-Object { [string]$_.ExternalPort })");
  s.open(
      "foreach ($file in @(Get-ChildItem -LiteralPath $dir -File -Force -Filter "
      "'.access-*')) {");
  s.line("$lines = @(Get-Content -LiteralPath $file.FullName)");
  s.line("$ports = @($lines | Select-Object -Skip 1)");
  s.line(
      "$access += [pscustomobject]@{ Team = $file.Name.Substring(8); Owner = [string]$lines[0]; "
      "Ports = $ports.Count;");
  s.line("  Present = @($ports | Where-Object { $mapped -contains $_ }).Count }");
  s.close().close();
  s.line(
      "ConvertTo-Json -Depth 6 -Compress -InputObject ([pscustomobject]@{ Pool = $pool; "
      "Vms = $vms; Switches = $switches; Files = $files; Nat = $natInfo;");
  s.line("  OtherVms = $otherVms; OtherSwitches = $otherSwitches; Access = $access })");
  return s.finish();
}

Result<std::string> render_retag(std::string_view classroom, ObjectKind kind, std::string_view name,
                                 const Tag& tag) {
  const bool vm = kind == ObjectKind::domain;
  Script s(vm ? "retag-vm" : "retag-network", std::string(name));
  s.check(check_name("classroom", classroom));
  s.check(check_name(vm ? "VM" : "network", name));
  if (!vm && kind != ObjectKind::network) {
    s.check(Error::failure(to_string(kind) + " " + std::string(name) + " carries no tag"));
  }
  auto text = format_tag(tag);
  s.check(text ? Status() : Status(text.error()));
  s.with_tag_function();
  s.line(std::string(vm ? "$object = Get-VM" : "$object = Get-VMSwitch") + " -Name " + s.q(name));
  s.open("if (-not (Test-LabctlTag $object.Notes " + s.q(classroom) + ")) {");
  s.line("throw ('labctl: ' + " + s.q(name) + " + ' does not carry this classroom''s tag')");
  s.close();
  s.line(std::string(vm ? "Set-VM -VM $object" : "Set-VMSwitch -VMSwitch $object") + " -Notes " +
         s.q(text ? *text : ""));
  return s.finish();
}

Result<std::string> render_host_info() {
  Script s("host-info", "local");
  s.line("$vmhost = Get-VMHost");
  s.line("$os = Get-CimInstance Win32_OperatingSystem");
  s.line(
      "ConvertTo-Json -Depth 6 -Compress -InputObject ([pscustomobject]@{ Name = "
      "$vmhost.ComputerName;");
  s.line(
      "  MemoryCapacity = $vmhost.MemoryCapacity; FreePhysicalMemory = "
      "$os.FreePhysicalMemory;");
  s.line("  LogicalProcessorCount = $vmhost.LogicalProcessorCount })");
  return s.finish();
}

// Every switch's host-side IPv4 address (Internal/External switches have a vEthernet
// adapter), and every NetNat prefix: what a new subnet must not overlap.
Result<std::string> render_host_networks() {
  Script s("host-networks", "local");
  s.open("$switches = @(Get-VMSwitch | ForEach-Object {");
  s.line(
      "$ip = Get-NetIPAddress -InterfaceAlias ('vEthernet (' + $_.Name + ')') -AddressFamily "
      "IPv4 -ErrorAction SilentlyContinue | Select-Object -First 1");
  s.line("[pscustomobject]@{ Name = $_.Name; Notes = $_.Notes;");
  s.line("  Address = $(if ($ip) { $ip.IPAddress + '/' + $ip.PrefixLength } else { '' }) }");
  s.close("})");
  s.line("$nats = @(Get-NetNat -ErrorAction SilentlyContinue | ForEach-Object {");
  s.line("  [pscustomobject]@{ Name = $_.Name; Prefix = $_.InternalIPInterfaceAddressPrefix } })");
  s.line(
      "ConvertTo-Json -Depth 6 -Compress -InputObject ([pscustomobject]@{ Switches = $switches; "
      "Nats = $nats })");
  return s.finish();
}

}  // namespace labctl::hv::hyperv
