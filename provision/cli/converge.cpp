#include "provision/cli/converge.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "provision/apply/guest.hpp"
#include "provision/model/addressing.hpp"
#include "provision/plan/access_checks.hpp"
#include "provision/plan/conflicts.hpp"
#include "provision/sys/host_ports.hpp"
#include "stacks/squashtm/health.hpp"
#include "stacks/squashtm/lifecycle.hpp"

namespace labctl::cli {

std::vector<std::pair<std::string, std::vector<const model::Team*>>> teams_by_host(
    const GlobalOptions& global, const model::Lab& lab, const plan::Scope& scope) {
  std::vector<std::pair<std::string, std::vector<const model::Team*>>> groups;
  for (const model::Team& team : lab.teams) {
    if (!scope.covers(team.name)) {
      continue;
    }
    const std::string uri = host_uri(global, lab, &team);
    auto it = std::find_if(groups.begin(), groups.end(), [&](auto& g) { return g.first == uri; });
    if (it == groups.end()) {
      groups.push_back({uri, {}});
      it = std::prev(groups.end());
    }
    it->second.push_back(&team);
  }
  return groups;
}

std::string choose_accelerator(const model::Lab& lab, const hv::Capabilities& caps) {
  switch (lab.accelerator) {
    case model::Accelerator::kvm:
      return "kvm";
    case model::Accelerator::qemu:
      return "qemu";
    case model::Accelerator::automatic:
      break;
  }
  return caps.kvm ? "kvm" : "qemu";
}

Status check_capacity(const model::Lab& lab, const plan::Plan& plan, hv::Hypervisor& hypervisor,
                      const std::string& uri, bool force) {
  model::Bytes need = 0;
  int vms = 0;
  for (const plan::Action& action : plan.actions) {
    if (action.role == plan::Role::domain && action.op == plan::Op::start) {
      if (const model::Team* team = lab.find_team(action.team)) {
        for (const model::Vm& vm : team->vms) {
          if (vm.key == action.vm) {
            need += vm.memory;
            ++vms;
          }
        }
      }
    }
  }
  auto info = hypervisor.host_info();
  if (need == 0 || !info || info->memory_total == 0) {
    return {};
  }
  model::Bytes reserve = 0;
  for (const model::Host& host : lab.hosts) {
    reserve = host.uri == uri ? host.reserve : reserve;
  }
  const model::Bytes free = info->memory_free > reserve ? info->memory_free - reserve : 0;
  if (need <= free || force) {
    return {};
  }
  return Error::failure(fmt::format(
      "{} VMs need {} of memory (their caps); {} has {} free of {} (reserve {}): short by {}. "
      "Bring fewer teams up, add a host, or give --force",
      vms, plan::format_size(need), uri, plan::format_size(info->memory_free),
      plan::format_size(info->memory_total), plan::format_size(reserve),
      plan::format_size(need - free)));
}

namespace {

bool has_nat(const std::vector<const model::Team*>& teams) {
  return std::any_of(teams.begin(), teams.end(), [](const model::Team* team) {
    return std::any_of(team->networks.begin(), team->networks.end(), [](const model::Network& net) {
      return net.kind == model::NetworkKind::nat;
    });
  });
}

// A host whose NATs are host-wide (capabilities().max_nat_networks > 0; Hyper-V: one NetNat
// per host) gives the classroom one NAT over model::nat_prefix(lab) for all its nat networks
// there: refused before anything is created when the host already holds its limit of NATs
// that are not the classroom's, or when that prefix is too wide or overlaps another network.
Status check_shared_nat(const model::Lab& lab, const std::vector<const model::Team*>& teams,
                        int max_nats, const std::vector<hv::HostNetwork>& networks,
                        const std::string& uri) {
  const std::optional<model::Subnet> prefix = model::nat_prefix(lab);
  if (max_nats <= 0 || !prefix || !has_nat(teams)) {
    return {};
  }
  if (prefix->prefix < 8) {
    return Error::failure(fmt::format(
        "{}: on {} the classroom's nat networks share one NAT, and only {} holds them all: give "
        "every nat network a subnet inside one /8",
        lab.file, uri, prefix->cidr()));
  }
  std::vector<const hv::HostNetwork*> foreign;
  for (const hv::HostNetwork& other : networks) {
    if (other.classroom == lab.classroom) {
      continue;
    }
    if (other.nat) {
      foreign.push_back(&other);
    }
    const std::optional<model::Subnet> theirs = model::parse_cidr(other.cidr);
    if (theirs && theirs->overlaps(*prefix)) {
      return Error::failure(fmt::format(
          "{}: the classroom's NAT on {} covers {} (every nat network's subnet), which overlaps "
          "{} ({}): set `subnets:` in the lab file to a free range",
          lab.file, uri, prefix->cidr(), other.name, other.cidr));
    }
  }
  if (static_cast<int>(foreign.size()) < max_nats) {
    return {};
  }
  const hv::HostNetwork& other = *foreign.front();
  return Error::failure(fmt::format(
      "{}: {} allows {} NAT per host and already has {} ({}), which is not classroom {}'s; the "
      "classroom needs one over {} for its nat networks. Remove {} from that host if nothing "
      "uses it, run this classroom on another host (--connect, or teams.overrides.<team>.host), "
      "or use kind: bridge instead of nat",
      lab.file, uri, max_nats, other.name, other.cidr, lab.classroom, prefix->cidr(), other.name));
}

}  // namespace

Status check_nat(const model::Lab& lab, const std::vector<const model::Team*>& teams,
                 hv::Hypervisor& hypervisor, const std::string& uri) {
  const int max_nats = hypervisor.capabilities().max_nat_networks;
  if (max_nats <= 0 || !has_nat(teams)) {
    return {};
  }
  auto networks = hypervisor.host_networks();
  if (!networks) {
    return networks.error();
  }
  return check_shared_nat(lab, teams, max_nats, *networks, uri);
}

Status check_subnets(const model::Lab& lab, const std::vector<const model::Team*>& teams,
                     hv::Hypervisor& hypervisor, const std::string& uri) {
  auto networks = hypervisor.host_networks();
  if (!networks) {
    return networks.error();
  }
  if (auto st =
          check_shared_nat(lab, teams, hypervisor.capabilities().max_nat_networks, *networks, uri);
      !st) {
    return st;
  }
  for (const model::Team* team : teams) {
    for (const model::Network& net : team->networks) {
      for (const hv::HostNetwork& other : *networks) {
        if (!net.subnet || other.cidr.empty() || other.classroom == lab.classroom) {
          continue;
        }
        const auto slash = other.cidr.find('/');
        unsigned a = 0, b = 0, c = 0, d = 0;
        if (std::sscanf(other.cidr.c_str(), "%u.%u.%u.%u", &a, &b, &c, &d) != 4) {
          continue;
        }
        const model::Subnet theirs{(a << 24) | (b << 16) | (c << 8) | d,
                                   std::stoi(other.cidr.substr(slash + 1))};
        if (net.subnet->overlaps(theirs)) {
          return Error::failure(fmt::format(
              "{}: network {} ({}) overlaps {} ({}) on {}: set `subnets:` in the lab file to a "
              "free range",
              lab.file, net.name, net.subnet->cidr(), other.name, other.cidr, uri));
        }
      }
    }
  }
  return {};
}

// Students' access on a host that forwards it: the listen address, ports in use, other
// classrooms' ranges (plan/access_checks.hpp).
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

Status check_host(const model::Lab& lab, const std::vector<const model::Team*>& teams,
                  hv::Hypervisor& hypervisor, const hv::Inventory& inventory,
                  const plan::Plan& plan, const std::string& uri, const ConvergeOptions& options) {
  plan::Scope scope;
  for (const model::Team* team : teams) {
    scope.teams.push_back(team->name);
  }
  if (auto st = plan::refuse_conflicts(plan.conflicts, uri, options.adopt); !st) {
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
                           hv::Hypervisor& hypervisor) {
  ready::Deps deps;
  deps.hypervisor = &hypervisor;
  deps.ssh_target = [&lab, state](const model::Vm& vm) {
    return apply::ssh_target(lab, state, vm);
  };
  deps.instance_healthy = [](const std::string& ip, const model::Instance& instance) {
    return squashtm::probe_health(ip, instance.port, std::chrono::milliseconds(3000)).healthy;
  };
  deps.instances = [state](const model::Vm& vm) {
    auto current = state.read_state();
    return apply::effective_instances(vm, current ? *current : nlohmann::json());
  };
  deps.serial_log = [state](const model::Vm& vm) {
    auto path = state.serial_log_path(vm.name);
    return path ? path->string() : std::string();
  };
  deps.stop = &stop_flag();
  return deps;
}

namespace {

Status deploy_stack(const model::Lab& lab, const sys::StateDir& state, const model::Vm& vm) {
  auto current = state.read_state();
  if (!current) {
    return current.error();
  }
  const auto instances = apply::effective_instances(vm, *current);
  if (instances.empty()) {
    return {};
  }
  auto connected = apply::connect_remote(lab, state, vm);
  if (!connected) {
    return connected.error();
  }
  apply::SshRemote& remote = **connected;
  const squashtm::StackOptions stack = squashtm::stack_options(lab);
  auto secrets = apply::stack_secrets(state, vm, instances);
  if (!secrets) {
    return secrets.error();
  }
  squashtm::Lifecycle lifecycle(remote, squashtm::owner_of(lab.classroom, vm), vm, stack);
  return lifecycle.deploy(instances, *secrets);
}

}  // namespace

bool bring_up_guests(const GlobalOptions& /*global*/, const model::Lab& lab,
                     const sys::StateDir& state, hv::Hypervisor& hypervisor,
                     const std::vector<const model::Vm*>& vms, const ConvergeOptions& /*options*/,
                     sys::Reporter& reporter, std::vector<ready::VmReadiness>& results) {
  ready::Deps deps = readiness_deps(lab, state, hypervisor);
  deps.deploy = [&](const model::Vm& vm) { return deploy_stack(lab, state, vm); };
  ready::Timeouts timeouts;
  timeouts.stages = lab.timeouts;
  results = ready::wait_ready(lab, vms, deps, timeouts, ready::Stage::stack, reporter);
  return std::all_of(results.begin(), results.end(),
                     [](const auto& r) { return r.failed == ready::Stage::none; });
}

Status apply_plan(const GlobalOptions& /*global*/, const model::Lab& lab,
                  const sys::StateDir& state, hv::Hypervisor& hypervisor, const plan::Plan& plan,
                  const ConvergeOptions& options, sys::Reporter& reporter) {
  apply::GuestOptions guest;
  guest.accelerator = choose_accelerator(lab, hypervisor.capabilities());
  guest.images.build.log = [&reporter](const std::string& line) {
    reporter.report({"", "", "image", sys::EventState::info, line});
  };
  guest.images.pull.log = guest.images.build.log;
  apply::GuestMaterializer materializer(lab, state, std::move(guest));
  apply::Options apply_options;
  apply_options.jobs = options.jobs;
  apply_options.stop = &stop_flag();
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

Status summarize(const GlobalOptions& global, const std::vector<ready::VmReadiness>& results) {
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
  if (global.json) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const auto& r : results) {
      nlohmann::ordered_json stages = nlohmann::ordered_json::object();
      for (const auto& [stage, at] : r.stage_seconds) {
        stages[ready::to_string(stage)] = at;
      }
      out.push_back({{"team", r.team},
                     {"vm", r.vm},
                     {"stage", ready::to_string(r.reached)},
                     {"failed", r.failed == ready::Stage::none ? "" : ready::to_string(r.failed)},
                     {"message", r.message},
                     {"seconds", r.seconds},
                     {"stages", stages}});
    }
    global.output->document = std::move(out);
  } else {
    std::vector<std::vector<std::string>> rows;
    for (const auto& r : results) {
      rows.push_back(
          {r.team, r.vm, ready::to_string(r.reached), fmt::format("{:.0f}s", r.seconds),
           r.failed == ready::Stage::none ? "ok" : "FAILED at " + ready::to_string(r.failed)});
    }
    print_table({"TEAM", "VM", "STAGE", "TIME", "RESULT"}, rows);
  }
  if (failures.empty()) {
    return {};
  }
  return Error::failure("some VMs are not ready:" + failures);
}

}  // namespace labctl::cli
