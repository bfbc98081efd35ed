#include "provision/converge/host.hpp"

#include <algorithm>
#include <memory>

#include <fmt/format.h>

#include "hypervisors/limits.hpp"
#include "provision/apply/access.hpp"
#include "provision/apply/apply.hpp"
#include "provision/apply/guest_materializer.hpp"
#include "provision/apply/ssh_remote.hpp"
#include "provision/apply/stack_secrets.hpp"
#include "provision/converge/boot_gate.hpp"
#include "provision/converge/guest_ssh.hpp"
#include "provision/images/images.hpp"
#include "provision/plan/access_checks.hpp"
#include "provision/plan/conflicts.hpp"
#include "provision/plan/preflight.hpp"
#include "provision/sys/host_ports.hpp"
#include "provision/sys/http.hpp"
#include "stacks/squashtm/health.hpp"
#include "stacks/squashtm/lifecycle.hpp"

namespace labctl::converge {

Status check_capacity(const model::Lab& lab, const plan::Plan& plan, hv::Hypervisor& hypervisor,
                      const std::string& uri, bool force) {
  auto info = hypervisor.host_info();
  return info ? plan::check_capacity(lab, plan, *info, uri, force) : Status{};
}

Status check_nat(const model::Lab& lab, const std::vector<const model::Team*>& teams,
                 hv::Hypervisor& hypervisor, const std::string& uri) {
  const int max_nats = hypervisor.capabilities().max_nat_networks;
  if (max_nats <= 0 || !plan::uses_nat(teams)) {
    return {};
  }
  auto networks = hypervisor.host_networks();
  if (!networks) {
    return networks.error();
  }
  return plan::check_shared_nat(lab, teams, max_nats, *networks, uri);
}

Status check_subnets(const model::Lab& lab, const std::vector<const model::Team*>& teams,
                     hv::Hypervisor& hypervisor, const std::string& uri) {
  auto networks = hypervisor.host_networks();
  if (!networks) {
    return networks.error();
  }
  return plan::check_subnets(lab, teams, hypervisor.capabilities().max_nat_networks, *networks,
                             uri);
}

// Students' access on a host that forwards it: the listen address, ports in use, other
// classrooms' ranges (plan/access_checks.hpp).
namespace {

Status check_access_host(const model::Lab& lab, const std::vector<const model::Team*>& teams,
                         hv::Hypervisor& hypervisor) {
  if (!lab.access.enabled || !hypervisor.capabilities().publish) {
    return {};
  }
  auto root = sys::default_state_root();
  if (!root) {
    return root.error();
  }
  auto host = sys::read_host_ports(*root, lab.classroom);
  if (!host) {
    return host.error();
  }
  return plan::check_access(lab, teams, *host);
}

}  // namespace

Status check_host(const model::Lab& lab, const std::vector<const model::Team*>& teams,
                  hv::Hypervisor& hypervisor, const hv::Inventory& inventory,
                  const plan::Plan& plan, const std::string& uri, const Options& options) {
  plan::Scope scope;
  for (const model::Team* team : teams) {
    scope.teams.push_back(team->name);
  }
  if (auto st = plan::refuse_conflicts(plan.conflicts, uri, options.adopt); !st) {
    return st;
  }
  if (auto st = plan::check_backend(lab, teams, hv::limits_of(uri), uri); !st) {
    return st;
  }
  if (auto st = check_capacity(lab, plan, hypervisor, uri, options.force); !st) {
    return st;
  }
  if (auto st = check_subnets(lab, teams, hypervisor, uri); !st) {
    return st;
  }
  if (auto st = plan::check_bridges(lab, inventory, scope); !st) {
    return st;
  }
  if (auto st = check_access_host(lab, teams, hypervisor); !st) {
    return st;
  }
  return hv::check_host_setup(uri, teams);
}

Status adopt_objects(const model::Lab& lab, hv::Hypervisor& hypervisor,
                     const hv::Inventory& inventory, sys::Reporter& reporter) {
  for (const hv::Object* object : plan::adoptable_objects(lab, inventory)) {
    const std::string subject = "adopt " + hv::to_string(object->kind) + " " + object->name;
    if (auto st = hypervisor.retag(*object, lab.identity); !st) {
      reporter.report({object->tag.team, "", subject, sys::EventState::failed, st.error().message});
      return st;
    }
    reporter.report({object->tag.team, "", subject, sys::EventState::done,
                     "re-tagged with identity " + lab.identity});
  }
  return {};
}

ready::Deps readiness_deps(const model::Lab& lab, const sys::StateDir& state,
                           hv::Hypervisor& hypervisor, const std::atomic<bool>* stop) {
  ready::Deps deps;
  deps.hypervisor = &hypervisor;
  deps.ssh_target = [&lab, state](const model::Vm& vm) { return ssh_target(lab, state, vm); };
  deps.instance_healthy = [http = std::make_shared<sys::CurlHttpClient>()](
                              const std::string& ip, const model::Instance& instance) {
    return squashtm::probe_health(*http, ip, instance.port, std::chrono::milliseconds(3000))
        .healthy;
  };
  deps.instances = [state](const model::Vm& vm) -> Result<std::vector<model::Instance>> {
    auto current = state.read_state();
    if (!current) {
      return current.error();
    }
    return current->effective_instances(vm);
  };
  deps.serial_log = [state](const model::Vm& vm) {
    auto path = state.serial_log_path(vm.name);
    return path ? path->string() : std::string();
  };
  deps.stop = stop;
  return deps;
}

namespace {

// Every `up`: the admin user accepts exactly the classroom key and the team's (VMs made
// before per-team keys get theirs here), and the addresses the LAN's DHCP gave are recorded.
Status converge_access(const model::Lab& lab, const sys::StateDir& state, const model::Vm& vm,
                       apply::SshRemote& remote) {
  auto classroom = state.classroom_key();
  auto team = state.team_key(vm.team);
  if (!classroom || !team) {
    return !classroom ? classroom.error() : team.error();
  }
  const std::string keys = apply::authorized_keys(classroom->public_line, team->public_line);
  if (auto st = apply::authorize_keys(remote, lab.admin_user, keys); !st) {
    return st;
  }
  if (!apply::has_dhcp_nic(vm)) {
    return {};
  }
  auto learned = apply::learn_dhcp_addresses(remote, vm);
  if (!learned) {
    return learned.error();
  }
  return state.update_state([&](sys::ClassroomState& s) { s.record_addresses(vm, *learned); });
}

// On the readiness stages' SSH session.
Status deploy_stack(const model::Lab& lab, const sys::StateDir& state, const model::Vm& vm,
                    sys::Shell& session) {
  auto current = state.read_state();
  if (!current) {
    return current.error();
  }
  apply::SshRemote remote(session);
  if (auto st = converge_access(lab, state, vm, remote); !st) {
    return st;
  }
  const auto instances = current->effective_instances(vm);
  if (instances.empty()) {
    return {};
  }
  const squashtm::StackOptions stack = squashtm::stack_options(lab);
  auto secrets = apply::stack_secrets(state, vm, instances);
  if (!secrets) {
    return secrets.error();
  }
  squashtm::Lifecycle lifecycle(remote, squashtm::owner_of(lab.classroom, vm), vm, stack);
  return lifecycle.deploy(instances, *secrets);
}

// The lab's base image for the guest materializer: pulled or built into the cache.
apply::BaseImageSource base_image_source(const model::Image& image, images::EnsureOptions options) {
  return [&image, options = std::move(options)]() -> Result<apply::BaseImage> {
    sys::SystemRunner runner;
    sys::CurlHttpClient http;
    auto paths = images::ensure_image(image, options, runner, http);
    if (!paths) {
      return paths.error();
    }
    return apply::BaseImage{paths->disk, paths->kernel, paths->initrd};
  };
}

// The gate for a plan's VM starts under TCG, when their vCPUs exceed the host's cores (see
// boot_gate.hpp); none otherwise, or when the host does not say how many cores it has.
std::unique_ptr<BootGate> boot_gate(const model::Lab& lab, const plan::Plan& plan,
                                    hv::Hypervisor& hypervisor, apply::Materializer& materializer,
                                    const Options& options, sys::Reporter& reporter) {
  int vcpus = 0;
  for (const model::Vm* vm : plan::started_vms(lab, plan)) {
    vcpus += vm->vcpus;
  }
  const auto host = hypervisor.host_info();
  if (!host || !BootGate::needed(host->cpus, vcpus)) {
    return nullptr;
  }
  BootGate::Settings settings;
  settings.cores = host->cpus;
  settings.stop = options.stop;
  settings.serial_log = [&materializer](const model::Vm& vm) {
    return materializer.serial_log(vm);
  };
  settings.running = [&hypervisor](const model::Vm& vm) {
    const auto state = hypervisor.domain_state(vm.name);
    return state && *state == hv::PowerState::running;
  };
  return std::make_unique<BootGate>(std::move(settings), reporter);
}

}  // namespace

std::vector<ready::VmReadiness> bring_up_guests(const model::Lab& lab, const sys::StateDir& state,
                                                hv::Hypervisor& hypervisor,
                                                const std::vector<const model::Vm*>& vms,
                                                const Options& options, sys::Reporter& reporter) {
  ready::Deps deps = readiness_deps(lab, state, hypervisor, options.stop);
  deps.deploy = [&](const model::Vm& vm, sys::Shell& session) {
    return deploy_stack(lab, state, vm, session);
  };
  ready::Timeouts timeouts;
  timeouts.stages = lab.timeouts;
  return ready::wait_ready(lab, vms, deps, timeouts, ready::Stage::stack, reporter);
}

Status apply_plan(const model::Lab& lab, const sys::StateDir& state, hv::Hypervisor& hypervisor,
                  const plan::Plan& plan, const Options& options, sys::Reporter& reporter) {
  images::EnsureOptions ensure;
  ensure.build.log = [&reporter](const std::string& line) {
    reporter.report({"", "", "image", sys::EventState::info, line});
  };
  ensure.pull.log = ensure.build.log;
  apply::GuestOptions guest;
  guest.accelerator = plan::choose_accelerator(lab, hypervisor.capabilities());
  guest.base_image = base_image_source(lab.image, std::move(ensure));
  const bool tcg = guest.accelerator == "qemu";
  apply::GuestMaterializer materializer(lab, state, std::move(guest));
  apply::Options apply_options;
  apply_options.jobs = options.jobs;
  apply_options.stop = options.stop;
  // `up --no-wait` returns once the VMs are started: it does not wait for their boots either.
  std::unique_ptr<BootGate> gate;
  if (tcg && !options.no_wait) {
    gate = boot_gate(lab, plan, hypervisor, materializer, options, reporter);
  }
  if (gate) {
    apply_options.start_vm = [&gate](const model::Vm& vm, const std::function<Status()>& start) {
      return gate->start(vm, start);
    };
  }
  const apply::Outcome outcome =
      apply::apply(lab, plan, hypervisor, materializer, reporter, apply_options);
  if (outcome.ok()) {
    return {};
  }
  std::string message = outcome.interrupted ? "stopped by request; run `up` again to converge"
                                            : fmt::format("{} actions failed", outcome.failed);
  for (const std::string& error : outcome.errors) {
    message += "\n  " + error;
  }
  return Error::failure(message);
}

Status readiness_failures(const std::vector<ready::VmReadiness>& results) {
  std::string failures;
  for (const auto& r : results) {
    if (r.failed == ready::Stage::none) {
      continue;
    }
    failures += fmt::format("\n  {}/{}: stage {} failed: {}", r.team, r.vm,
                            ready::to_string(r.failed), r.message);
    for (const std::string& line : r.serial_tail) {
      failures += "\n      | " + line;
    }
  }
  if (failures.empty()) {
    return {};
  }
  return Error::failure("some VMs are not ready:" + failures);
}

}  // namespace labctl::converge
