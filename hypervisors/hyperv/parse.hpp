#pragma once

// Parsers for the JSON the query scripts print. They accept what Windows PowerShell 5.1
// and PowerShell 7 actually write: enums as strings or numbers, a one-element list as a bare
// object, a missing list as null, an empty output as nothing at all. Objects whose Notes do
// not carry the classroom's tag are dropped here too, not only by the script.

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "hypervisors/hypervisor.hpp"
#include "provision/result.hpp"

namespace labctl::hv::hyperv {

// Microsoft.HyperV.PowerShell.VMState: "Running" or 2, "Off" or 3, "Paused" or 9, ...
PowerState parse_vm_state(const nlohmann::json& state);

Result<Inventory> parse_inventory(std::string_view json, const std::string& classroom);
Result<HostInfo> parse_host_info(std::string_view json);
Result<std::vector<HostNetwork>> parse_host_networks(std::string_view json);
Result<PowerState> parse_vm_state_output(std::string_view json);

// "10.61.1.1/24" -> "10.61.1.0/24"; "" when it is not an IPv4 CIDR.
std::string network_cidr(std::string_view address);

}  // namespace labctl::hv::hyperv
