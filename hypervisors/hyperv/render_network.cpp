#include <fmt/format.h>

#include "hypervisors/hyperv/powershell.hpp"
#include "hypervisors/hyperv/render.hpp"
#include "hypervisors/hyperv/script.hpp"
#include "provision/model/addressing.hpp"

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

// The classroom's NetNat over nat_prefix(lab), checked before the switch is created: another
// NetNat on the host is refused (the last guard: `up` checks it first), and so is the
// classroom's own with another prefix.
Result<model::Subnet> check_nat(Script& s, const model::Lab& lab, const model::Network& net) {
  const std::optional<model::Subnet> prefix = model::nat_prefix(lab);
  if (!prefix || prefix->prefix > net.subnet->prefix || !prefix->overlaps(*net.subnet)) {
    return Error::failure(
        fmt::format("nat network {} ({}) is not one of the lab's", net.name, net.subnet->cidr()));
  }
  s.line("$natName = " + s.q(nat_name(lab.classroom)));
  s.line("$natPrefix = " + s.q(prefix->cidr()));
  s.line("$nat = Get-NetNat -Name $natName -ErrorAction SilentlyContinue");
  s.line(
      "$other = @(Get-NetNat -ErrorAction SilentlyContinue | Where-Object { $_.Name -ne "
      "$natName })");
  s.open("if ($other.Count -gt 0) {");
  s.line(
      "throw ('labctl: Windows allows one NetNat per host and ''' + $other[0].Name + "
      "''' exists (' + $other[0].InternalIPInterfaceAddressPrefix + '): remove it if nothing "
      "uses it, or run this classroom on another host')");
  s.close();
  s.open("if ($null -ne $nat -and $nat.InternalIPInterfaceAddressPrefix -ne $natPrefix) {");
  s.line(
      "throw ('labctl: NetNat ' + $natName + ' covers ' + $nat.InternalIPInterfaceAddressPrefix "
      "+ ' but the lab''s nat networks need ' + $natPrefix + ': labctl down --all, then up')");
  s.close();
  return *prefix;
}

// Hyper-V has no DHCP server: the guests' addresses come from cloud-init's static
// network-config. Windows runs one NetNat per host, so the classroom's nat networks share
// one, <classroom>-nat: each is an Internal switch with its gateway on its vEthernet, and
// the first one creates the NetNat.
void render_nat(Script& s, const model::Lab& lab, const model::Network& net) {
  if (!net.subnet || net.gateway.empty()) {
    s.check(Error::failure(fmt::format("nat network {} needs a subnet and a gateway", net.name)));
    return;
  }
  if (auto prefix = check_nat(s, lab, net); !prefix) {
    s.check(prefix.error());
    return;
  }
  s.line("New-VMSwitch -Name $name -SwitchType Internal -Notes $pending | Out-Null");
  s.line("$adapter = Get-NetAdapter -Name ('vEthernet (' + $name + ')')");
  s.line(
      fmt::format("New-NetIPAddress -InterfaceIndex $adapter.ifIndex -IPAddress {} "
                  "-PrefixLength {} | Out-Null",
                  s.q(net.gateway), net.subnet->prefix));
  s.open("if ($null -eq $nat) {");
  s.line("New-NetNat -Name $natName -InternalIPInterfaceAddressPrefix $natPrefix | Out-Null");
  s.close();
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

// Every labctl nat switch on the host, whichever classroom's.
constexpr std::string_view k_labctl_internal =
    "@(Get-VMSwitch -SwitchType Internal | Where-Object { [string]$_.Notes -clike 'labctl:v1 *' })";

// The entries a script listed in <root>\<record> (one a line, each read into `entry`),
// undone by `undo` once no labctl nat switch is left on the host; then the list goes.
void undo_recorded(Script& s, std::string_view root, std::string_view record, std::string_view list,
                   std::string_view entry, std::string_view undo) {
  s.line(fmt::format("{} = Join-Path {} {}", list, s.q(root), s.q(record)));
  s.open(fmt::format("if ({}.Count -eq 0 -and (Test-Path -LiteralPath {})) {{", k_labctl_internal,
                     list));
  s.open(fmt::format("foreach ({} in @(Get-Content -LiteralPath {})) {{", entry, list));
  s.line(undo);
  s.close();
  s.line(fmt::format("Remove-Item -LiteralPath {} -Force", list));
  s.close();
}

// The forwarding forward_from_wsl() turned on, turned off again once no labctl nat switch is
// left on the host; a WSL interface whose forwarding was on before stays on.
void stop_forwarding(Script& s, std::string_view root) {
  undo_recorded(s, root, k_forwarding_record, "$record", "$alias",
                "Set-NetIPInterface -InterfaceAlias $alias -AddressFamily IPv4 -Forwarding "
                "Disabled -ErrorAction SilentlyContinue");
}

// The routes route_to_registry() made, removed with the last labctl nat switch on the host
// (the VMs that used them are gone; the registry serves every classroom on the host).
void remove_registry_routes(Script& s, std::string_view root) {
  undo_recorded(s, root, k_route_record, "$routeRecord", "$prefix",
                "Get-NetRoute -DestinationPrefix $prefix -AddressFamily IPv4 -ErrorAction "
                "SilentlyContinue | Remove-NetRoute -Confirm:$false");
}

// Windows' route to the registry in WSL (inside forward_from_wsl's block, $wsl set): added,
// or replaced when it is labctl's and WSL's address or interface changed (after
// `wsl --shutdown`); someone else's route to that address is left as it is. Only in the
// active store: a reboot drops it, and the next start adds it again.
void route_to_registry(Script& s, std::string_view root, const RegistryRoute& route) {
  s.check(check_ipv4("classroom registry address", route.address));
  s.check(check_ipv4("WSL's address", route.next_hop));
  s.line("$registryPrefix = " + s.q(route.address + "/32"));
  s.line("$wslAddress = " + s.q(route.next_hop));
  // No vEthernet (WSL*) in mirrored mode: WSL shares Windows' addresses, nothing to route.
  s.open("if ($wsl.Count -gt 0) {");
  s.line(
      "$via = @(Find-NetRoute -RemoteIPAddress $wslAddress -ErrorAction SilentlyContinue | "
      "Where-Object { $_.InterfaceAlias -like 'vEthernet (WSL*' })");
  s.open("if ($via.Count -eq 0) {");
  s.line(
      "throw ('labctl: WSL''s address ' + $wslAddress + ' is not reached through a vEthernet "
      "(WSL*) interface: no route to the classroom registry ' + $registryPrefix)");
  s.close();
  s.line("$routeRecord = Join-Path " + s.q(root) + " " + s.q(k_route_record));
  s.line(
      "$ours = (Test-Path -LiteralPath $routeRecord) -and (@(Get-Content -LiteralPath "
      "$routeRecord) -contains $registryPrefix)");
  s.line(
      "$routes = @(Get-NetRoute -DestinationPrefix $registryPrefix -AddressFamily IPv4 "
      "-ErrorAction SilentlyContinue)");
  s.line(
      "$current = $routes.Count -eq 1 -and $routes[0].NextHop -eq $wslAddress -and "
      "$routes[0].InterfaceIndex -eq $via[0].InterfaceIndex");
  s.open("if (($ours -or $routes.Count -eq 0) -and -not $current) {");
  s.line("$routes | Remove-NetRoute -Confirm:$false -ErrorAction SilentlyContinue");
  s.line(
      "New-NetRoute -DestinationPrefix $registryPrefix -InterfaceIndex $via[0].InterfaceIndex "
      "-NextHop $wslAddress -PolicyStore ActiveStore | Out-Null");
  s.open("if (-not $ours) {");
  s.line("[IO.Directory]::CreateDirectory(" + s.q(root) + ") | Out-Null");
  s.line("Add-Content -LiteralPath $routeRecord -Value $registryPrefix");
  s.close().close().close();
}

}  // namespace

void forward_from_wsl(Script& s, std::string_view root, const std::optional<RegistryRoute>& route) {
  s.line("$labctlSwitches = " + std::string(k_labctl_internal));
  s.open("if ($labctlSwitches.Count -gt 0) {");
  s.open("foreach ($switch in $labctlSwitches) {");
  s.line(
      "Set-NetIPInterface -InterfaceAlias ('vEthernet (' + $switch.Name + ')') -AddressFamily "
      "IPv4 -Forwarding Enabled");
  s.close();
  // "vEthernet (WSL)", or "vEthernet (WSL (Hyper-V firewall))"; none in mirrored mode.
  s.line(
      "$wsl = @(Get-NetIPInterface -AddressFamily IPv4 -ErrorAction SilentlyContinue | "
      "Where-Object { $_.InterfaceAlias -like 'vEthernet (WSL*' })");
  s.open("foreach ($interface in $wsl) {");
  s.open("if ([string]$interface.Forwarding -ne 'Enabled') {");
  s.line(
      "Set-NetIPInterface -InterfaceIndex $interface.InterfaceIndex -AddressFamily IPv4 "
      "-Forwarding Enabled");
  s.line("[IO.Directory]::CreateDirectory(" + s.q(root) + ") | Out-Null");
  s.line("Add-Content -LiteralPath (Join-Path " + s.q(root) + " " + s.q(k_forwarding_record) +
         ") -Value $interface.InterfaceAlias");
  s.close().close();
  if (route) {
    route_to_registry(s, root, *route);
  }
  s.close();
}

std::string nat_name(std::string_view classroom) {
  return std::string(classroom) + "-nat";
}

Result<std::string> render_create_network(const model::Lab& lab, const model::Network& net,
                                          std::string_view root,
                                          const std::optional<RegistryRoute>& route) {
  Script s("create-network", net.name);
  s.check(check_name("network", net.name));
  s.check(check_name("classroom", lab.classroom));
  s.check(check_name("team", net.team));
  if (net.kind == model::NetworkKind::ovs) {
    s.check(
        Error::failure("Open vSwitch networks are not supported on Hyper-V; use isolated, "
                       "nat or bridge"));
  }
  Tag tag{lab.classroom, net.team, "network", model::network_spec_hash(net), lab.identity};
  s.line("$name = " + s.q(net.name));
  if (net.kind == model::NetworkKind::bridge) {
    render_bridge(s, net);
    return s.finish();
  }
  // Tagged from the start with a placeholder spec: a switch left half-built by a failure
  // is seen by the next inventory, and recreated.
  s.line("$pending = " +
         tag_or_check(s, {lab.classroom, net.team, "network", "pending", lab.identity}));
  if (net.kind == model::NetworkKind::nat) {
    render_nat(s, lab, net);
  } else {
    s.line("New-VMSwitch -Name $name -SwitchType Private -Notes $pending | Out-Null");
  }
  s.line("Set-VMSwitch -Name $name -Notes " + tag_or_check(s, tag));
  if (net.kind == model::NetworkKind::nat) {
    forward_from_wsl(s, root, route);
  }
  return s.finish();
}

Result<std::string> render_delete_network(std::string_view classroom, std::string_view name,
                                          std::string_view root) {
  Script s("delete-network", std::string(name));
  s.check(check_name("network", name));
  s.check(check_name("classroom", classroom));
  s.with_tag_function();
  s.line("$classroom = " + s.q(classroom));
  s.line("$name = " + s.q(name));
  s.line("$switch = Get-VMSwitch -Name $name -ErrorAction SilentlyContinue");
  s.open("if ($null -ne $switch) {");
  s.open("if (-not (Test-LabctlTag $switch.Notes $classroom)) {");
  s.line(
      "throw ('labctl: switch ' + $name + ' does not carry this classroom''s tag; "
      "not deleting it')");
  s.close();
  s.line("Remove-VMSwitch -Name $name -Force");
  s.close();
  // A NetNat has no Notes: the classroom's is the one named <classroom>-nat. It goes with
  // the classroom's last nat (Internal) switch on this host, so that taking one team down
  // keeps the other teams' NAT; checked even when the switch was already gone, so that a
  // re-run after a failure finishes the job.
  s.line(
      "$left = @(Get-VMSwitch -SwitchType Internal | Where-Object { Test-LabctlTag $_.Notes "
      "$classroom })");
  s.open("if ($left.Count -eq 0) {");
  s.line("Get-NetNat -Name " + s.q(nat_name(classroom)) +
         " -ErrorAction SilentlyContinue | Remove-NetNat -Confirm:$false");
  s.close();
  stop_forwarding(s, root);
  remove_registry_routes(s, root);
  return s.finish();
}

}  // namespace labctl::hv::hyperv
