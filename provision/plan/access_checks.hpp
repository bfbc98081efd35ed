#pragma once

// The host checks of students' access (`access:`), made by `plan` and `up` before anything
// changes: the listen address is the host's, no published port is in use, and the range
// overlaps no other classroom's on this host. Pure: the host's facts come in (sys/host_ports.hpp).
// Refusals point at the lab file: "FILE:LINE:COL: access.ports: ...", with the numbers.

#include <vector>

#include "provision/model/lab.hpp"
#include "provision/result.hpp"
#include "provision/sys/host_ports.hpp"

namespace labctl::plan {

// The checks for the teams' endpoints (all teams' for the range).
Status check_access(const model::Lab& lab, const std::vector<const model::Team*>& teams,
                    const sys::HostPorts& host);

}  // namespace labctl::plan
