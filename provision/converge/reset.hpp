#pragma once

// `reset`, as the CLI and the console run it: a team's VMs (or one) back to first boot on the
// team's host, then the wait for their readiness. The caller holds the classroom lock.

#include <string>
#include <vector>

#include "provision/converge/host.hpp"
#include "provision/converge/placement.hpp"
#include "provision/model/lab.hpp"
#include "provision/ready/stages.hpp"
#include "provision/result.hpp"
#include "provision/sys/reporter.hpp"

namespace labctl::converge {

// The team's VMs a reset takes: every one, or the one `vm_key` names ("" = every one); a key
// the team has not is a usage error naming the lab file.
Result<std::vector<const model::Vm*>> reset_targets(const model::Lab& lab, const model::Team& team,
                                                    const std::string& vm_key);

// Opens (creating) the classroom's state directory and resets reset_targets' VMs on the
// team's host (host_uri), their readiness after the wait (none with options.no_wait). `lab`
// gets the identity the reset claimed.
Result<std::vector<ready::VmReadiness>> reset_vms(model::Lab& lab, const HostChoice& hosts,
                                                  const std::string& team,
                                                  const std::string& vm_key, const Options& options,
                                                  sys::Reporter& reporter);

}  // namespace labctl::converge
