#pragma once

// The checks `up` and `plan` make on a host before anything is created, as pure functions of
// the lab, the plan and what the host reported (its memory, its networks, its capabilities).
// The converge layer asks the hypervisor and passes the answers (converge/host.hpp).

#include <string>
#include <vector>

#include "hypervisors/hypervisor.hpp"
#include "provision/model/lab.hpp"
#include "provision/model/limits.hpp"
#include "provision/plan/plan.hpp"
#include "provision/result.hpp"

namespace labctl::plan {

// "kvm" or "qemu": the lab's choice, else what the host's probe says works.
std::string choose_accelerator(const model::Lab& lab, const hv::Capabilities& caps);

// The lab's VMs that the plan starts (its domain start actions), in the plan's order.
std::vector<const model::Vm*> started_vms(const model::Lab& lab, const Plan& plan);

// The memory caps of the VMs the plan starts against the host's free memory less the lab's
// reserve for that host (`hosts[].reserve`): refused, with every figure, unless `force`.
// A host that reports no memory (0) is not checked.
Status check_capacity(const model::Lab& lab, const Plan& plan, const hv::HostInfo& host,
                      const std::string& uri, bool force);

// Some team has a network of kind nat.
bool uses_nat(const std::vector<const model::Team*>& teams);

// On a host whose NATs are host-wide (max_nats > 0; Hyper-V: one NetNat per host), the
// classroom gets one NAT over model::nat_prefix(lab) for all its nat networks there: refused
// when the host already holds its limit of NATs that are not the classroom's, or when that
// prefix is too wide or overlaps another network.
Status check_shared_nat(const model::Lab& lab, const std::vector<const model::Team*>& teams,
                        int max_nats, const std::vector<hv::HostNetwork>& networks,
                        const std::string& uri);

// The image's boot mode and the teams' network kinds against the limits of the backend `uri`
// names (hv::limits_of): a lab without hosts meets its backend only here.
Status check_backend(const model::Lab& lab, const std::vector<const model::Team*>& teams,
                     const model::BackendLimits& limits, const std::string& uri);

// check_shared_nat, then every team network's subnet against the host's networks that are
// not the classroom's.
Status check_subnets(const model::Lab& lab, const std::vector<const model::Team*>& teams,
                     int max_nats, const std::vector<hv::HostNetwork>& networks,
                     const std::string& uri);

}  // namespace labctl::plan
