#pragma once

// The shared path of `up` and `reset`: per host, plan, check capacity and subnets, apply,
// then wait for the guests stage by stage and deploy their Squash TM stacks over SSH.

#include <string>
#include <vector>

#include "provision/cli/common.hpp"
#include "provision/ready/stages.hpp"
#include "provision/sys/state.hpp"

namespace labctl::cli {

struct ConvergeOptions {
  bool dry_run = false;
  bool force = false;    // start even when the capacity check says it does not fit
  bool no_wait = false;  // return after apply, without waiting for the guests
  bool standin = false;  // stand-in images built on the host (standin.hpp)
  bool adopt = false;    // re-tag the classroom's objects tagged by another identity, or none
  int jobs = 0;
};

// The hosts' teams for a scope: teams grouped by the URI they live on.
std::vector<std::pair<std::string, std::vector<const model::Team*>>> teams_by_host(
    const GlobalOptions& global, const model::Lab& lab, const plan::Scope& scope);

// `plan` and `up --dry-run` on one host: the plan against the host's inventory; for a scripted
// backend (Hyper-V) also the exact scripts `up` would run, against an empty host when the
// host cannot be reached from here (no powershell.exe on Linux).
// Makes every check `up` makes on that host (check_host) and fails as `up` would.
Status plan_host(const GlobalOptions& global, const model::Lab& lab, const std::string& uri,
                 const plan::Scope& scope, const ConvergeOptions& options);

// Every check `up` makes on one host before it changes anything, and that `plan` and
// `up --dry-run` make too: conflicts (plan::Plan::conflicts; with --adopt only the
// foreign ones), memory, subnets, bridges, the host's setup.
Status check_host(const model::Lab& lab, const std::vector<const model::Team*>& teams,
                  hv::Hypervisor& hypervisor, const hv::Inventory& inventory,
                  const plan::Plan& plan, const std::string& uri, const ConvergeOptions& options);

// `--adopt`: re-tags the inventory's objects of the classroom that carry another identity
// (or none) with lab.identity, reporting each.
Status adopt_objects(const model::Lab& lab, hv::Hypervisor& hypervisor,
                     const hv::Inventory& inventory, sys::Reporter& reporter);

// "kvm" or "qemu": the lab's choice, else what the host's probe says works.
std::string choose_accelerator(const model::Lab& lab, const hv::Capabilities& caps);

Status check_capacity(const model::Lab& lab, const plan::Plan& plan, hv::Hypervisor& hypervisor,
                      const std::string& uri, bool force);
// The teams' subnets against the host's networks; on a host with a host-wide NAT (Hyper-V's
// one NetNat) also that the classroom can have it: no other NAT there, a prefix that fits.
Status check_subnets(const model::Lab& lab, const std::vector<const model::Team*>& teams,
                     hv::Hypervisor& hypervisor, const std::string& uri);
// Only the host-wide NAT part of check_subnets (for `plan`); nothing to ask on other hosts.
Status check_nat(const model::Lab& lab, const std::vector<const model::Team*>& teams,
                 hv::Hypervisor& hypervisor, const std::string& uri);

// Waits for the VMs, deploys their stacks, waits for the stacks; true when all are ready.
bool bring_up_guests(const GlobalOptions& global, const model::Lab& lab, const sys::StateDir& state,
                     hv::Hypervisor& hypervisor, const std::vector<const model::Vm*>& vms,
                     const ConvergeOptions& options, sys::Reporter& reporter,
                     std::vector<ready::VmReadiness>& results);

ready::Deps readiness_deps(const model::Lab& lab, const sys::StateDir& state,
                           hv::Hypervisor& hypervisor);

// Runs a plan on one host with the real guest materializer; errors list each failure.
Status apply_plan(const GlobalOptions& global, const model::Lab& lab, const sys::StateDir& state,
                  hv::Hypervisor& hypervisor, const plan::Plan& plan,
                  const ConvergeOptions& options, sys::Reporter& reporter);

// Prints the readiness of VMs (table or JSON) and turns failures into an Error that names
// each VM and stage, with the last lines of its serial log.
Status summarize(const GlobalOptions& global, const std::vector<ready::VmReadiness>& results);

}  // namespace labctl::cli
