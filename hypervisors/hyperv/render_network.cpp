#include <fmt/format.h>

#include "hypervisors/hyperv/powershell.hpp"
#include "hypervisors/hyperv/render.hpp"
#include "hypervisors/hyperv/script.hpp"

namespace labctl::hv::hyperv {

namespace {

std::string tag_or_check(Script& s, const Tag& tag) {
  auto text = format_tag(tag);
  if (!text) {
    s.check(text.error());
    return "''";
  }
  return s.q(*text);
}

// Hyper-V has no DHCP server: the guests' addresses come from cloud-init's static
// network-config. Windows runs one NetNat per host, so the script refuses a second one
// instead of letting New-NetNat fail with a less clear message.
void render_nat(Script& s, const model::Network& net) {
  if (!net.subnet || net.gateway.empty()) {
    s.check(Error::failure(fmt::format("nat network {} needs a subnet and a gateway", net.name)));
    return;
  }
  s.line(
      "$other = @(Get-NetNat -ErrorAction SilentlyContinue | Where-Object { $_.Name -ne $name })");
  s.open("if ($other.Count -gt 0) {");
  s.line(
      "throw ('labctl: Windows allows one NetNat per host and ''' + $other[0].Name + "
      "''' exists (' + $other[0].InternalIPInterfaceAddressPrefix + ')')");
  s.close();
  s.line("New-VMSwitch -Name $name -SwitchType Internal -Notes $pending | Out-Null");
  s.line("$adapter = Get-NetAdapter -Name ('vEthernet (' + $name + ')')");
  s.line(
      fmt::format("New-NetIPAddress -InterfaceIndex $adapter.ifIndex -IPAddress {} "
                  "-PrefixLength {} | Out-Null",
                  s.q(net.gateway), net.subnet->prefix));
  s.line("New-NetNat -Name $name -InternalIPInterfaceAddressPrefix " + s.q(net.subnet->cidr()) +
         " | Out-Null");
}

// A bridge network joins an External switch the host already has; labctl never creates
// or deletes it (the host's uplink is not the classroom's to change).
void render_bridge(Script& s, const model::Network& net) {
  s.check(check_host_name("bridge switch", net.bridge));
  s.line("$switch = Get-VMSwitch -Name " + s.q(net.bridge) + " -ErrorAction SilentlyContinue");
  s.open("if ($null -eq $switch -or [string]$switch.SwitchType -ne 'External') {");
  s.line("throw ('labctl: network ' + $name + ' needs the External switch ' + " + s.q(net.bridge) +
         " + ': create it once with New-VMSwitch -NetAdapterName <adapter> "
         "-AllowManagementOS $true')");
  s.close();
}

}  // namespace

Result<std::string> render_create_network(const model::Lab& lab, const model::Network& net) {
  Script s("create-network", net.name);
  s.check(check_name("network", net.name));
  s.check(check_name("classroom", lab.classroom));
  s.check(check_name("team", net.team));
  if (net.kind == model::NetworkKind::ovs) {
    s.check(
        Error::failure("Open vSwitch networks are not supported on Hyper-V; use isolated, "
                       "nat or bridge"));
  }
  Tag tag{lab.classroom, net.team, "network", model::network_spec_hash(net)};
  s.line("$name = " + s.q(net.name));
  if (net.kind == model::NetworkKind::bridge) {
    render_bridge(s, net);
    return s.finish();
  }
  // Tagged from the start with a placeholder spec: a switch left half-built by a failure
  // is seen by the next inventory, and recreated.
  s.line("$pending = " + tag_or_check(s, {lab.classroom, net.team, "network", "pending"}));
  if (net.kind == model::NetworkKind::nat) {
    render_nat(s, net);
  } else {
    s.line("New-VMSwitch -Name $name -SwitchType Private -Notes $pending | Out-Null");
  }
  s.line("Set-VMSwitch -Name $name -Notes " + tag_or_check(s, tag));
  return s.finish();
}

Result<std::string> render_delete_network(std::string_view classroom, std::string_view name) {
  Script s("delete-network", std::string(name));
  s.check(check_name("network", name));
  s.check(check_name("classroom", classroom));
  s.with_tag_function();
  s.line("$name = " + s.q(name));
  s.line("$switch = Get-VMSwitch -Name $name -ErrorAction SilentlyContinue");
  s.open("if ($null -ne $switch) {");
  s.open("if (-not (Test-LabctlTag $switch.Notes " + s.q(classroom) + ")) {");
  s.line(
      "throw ('labctl: switch ' + $name + ' does not carry this classroom''s tag; "
      "not deleting it')");
  s.close();
  // A NetNat has no Notes: it is labctl's when it has the name of a tagged switch.
  s.line("Get-NetNat -Name $name -ErrorAction SilentlyContinue | Remove-NetNat -Confirm:$false");
  s.line("Remove-VMSwitch -Name $name -Force");
  s.close();
  return s.finish();
}

}  // namespace labctl::hv::hyperv
