#pragma once

// The steps of `up`, `reset` and `down` on one host, each on a hypervisor the caller
// connected: the checks made before anything changes (the hypervisor's answers handed to the
// pure checks of plan/preflight.hpp), adoption, the apply with the real guest materializer
// (given the base image that images/ pulls or builds), and the wait for the guests with their
// stacks deployed over SSH. Session (session.hpp) strings them together; nothing here prints.

#include <atomic>
#include <string>
#include <vector>

#include "hypervisors/hypervisor.hpp"
#include "provision/model/lab.hpp"
#include "provision/plan/plan.hpp"
#include "provision/ready/stages.hpp"
#include "provision/result.hpp"
#include "provision/sys/reporter.hpp"
#include "provision/sys/state.hpp"

namespace labctl::converge {

struct Options {
  bool force = false;    // start even when the capacity check says it does not fit
  bool no_wait = false;  // return after apply, without waiting for the guests
  bool adopt = false;    // re-tag the classroom's objects tagged by another identity, or none
  int jobs = 0;
  const std::atomic<bool>* stop = nullptr;  // set by SIGINT/SIGTERM: stop between actions
};

// Every check `up` makes on one host before it changes anything, and that `plan` and
// `up --dry-run` make too: conflicts (plan::Plan::conflicts; with --adopt only the
// foreign ones), the backend's limits, memory, subnets, bridges, students' access, the
// host's setup.
Status check_host(const model::Lab& lab, const std::vector<const model::Team*>& teams,
                  hv::Hypervisor& hypervisor, const hv::Inventory& inventory,
                  const plan::Plan& plan, const std::string& uri, const Options& options);

// The plan's memory against the host's free memory (plan::check_capacity); a host that cannot
// say how much it has is not checked.
Status check_capacity(const model::Lab& lab, const plan::Plan& plan, hv::Hypervisor& hypervisor,
                      const std::string& uri, bool force);
// The teams' subnets against the host's networks; on a host with a host-wide NAT (Hyper-V's
// one NetNat) also that the classroom can have it: no other NAT there, a prefix that fits.
Status check_subnets(const model::Lab& lab, const std::vector<const model::Team*>& teams,
                     hv::Hypervisor& hypervisor, const std::string& uri);
// Only the host-wide NAT part of check_subnets (for `plan`); nothing to ask on other hosts.
Status check_nat(const model::Lab& lab, const std::vector<const model::Team*>& teams,
                 hv::Hypervisor& hypervisor, const std::string& uri);

// `--adopt`: re-tags the inventory's objects of the classroom that carry another identity
// (or none) with lab.identity, reporting each.
Status adopt_objects(const model::Lab& lab, hv::Hypervisor& hypervisor,
                     const hv::Inventory& inventory, sys::Reporter& reporter);

// Runs a plan on one host with the real guest materializer; errors list each failure.
Status apply_plan(const model::Lab& lab, const sys::StateDir& state, hv::Hypervisor& hypervisor,
                  const plan::Plan& plan, const Options& options, sys::Reporter& reporter);

// Everything the readiness stages ask of the world, for `up`, `reset` and `status`.
ready::Deps readiness_deps(const model::Lab& lab, const sys::StateDir& state,
                           hv::Hypervisor& hypervisor, const std::atomic<bool>* stop);

// Waits for the VMs and deploys their stacks on the way; one result per VM.
std::vector<ready::VmReadiness> bring_up_guests(const model::Lab& lab, const sys::StateDir& state,
                                                hv::Hypervisor& hypervisor,
                                                const std::vector<const model::Vm*>& vms,
                                                const Options& options, sys::Reporter& reporter);

// The VMs that are not ready as one Error naming each VM and stage, with the last lines of
// its serial log; ok when all are ready.
Status readiness_failures(const std::vector<ready::VmReadiness>& results);

}  // namespace labctl::converge
