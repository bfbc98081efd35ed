#include "provision/plan/preflight.hpp"

#include <algorithm>
#include <cstdio>
#include <optional>

#include <fmt/format.h>

#include "provision/model/addressing.hpp"

namespace labctl::plan {

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

std::vector<const model::Vm*> started_vms(const model::Lab& lab, const Plan& plan) {
  std::vector<const model::Vm*> vms;
  for (const Action& action : plan.actions) {
    if (action.role != Role::domain || action.op != Op::start) {
      continue;
    }
    if (const model::Team* team = lab.find_team(action.team)) {
      for (const model::Vm& vm : team->vms) {
        if (vm.key == action.vm) {
          vms.push_back(&vm);
        }
      }
    }
  }
  return vms;
}

Status check_capacity(const model::Lab& lab, const Plan& plan, const hv::HostInfo& host,
                      const std::string& uri, bool force) {
  model::Bytes need = 0;
  const std::vector<const model::Vm*> started = started_vms(lab, plan);
  const int vms = static_cast<int>(started.size());
  for (const model::Vm* vm : started) {
    need += vm->memory;
  }
  if (need == 0 || host.memory_total == 0) {
    return {};
  }
  model::Bytes reserve = 0;
  for (const model::Host& entry : lab.hosts) {
    reserve = entry.uri == uri ? entry.reserve : reserve;
  }
  const model::Bytes free = host.memory_free > reserve ? host.memory_free - reserve : 0;
  if (need <= free || force) {
    return {};
  }
  return Error::failure(fmt::format(
      "{} VMs need {} of memory (their caps); {} has {} free of {} (reserve {}): short by {}. "
      "Bring fewer teams up, add a host, or give --force",
      vms, format_size(need), uri, format_size(host.memory_free), format_size(host.memory_total),
      format_size(reserve), format_size(need - free)));
}

bool uses_nat(const std::vector<const model::Team*>& teams) {
  return std::any_of(teams.begin(), teams.end(), [](const model::Team* team) {
    return std::any_of(team->networks.begin(), team->networks.end(), [](const model::Network& net) {
      return net.kind == model::NetworkKind::nat;
    });
  });
}

Status check_shared_nat(const model::Lab& lab, const std::vector<const model::Team*>& teams,
                        int max_nats, const std::vector<hv::HostNetwork>& networks,
                        const std::string& uri) {
  const std::optional<model::Subnet> prefix = model::nat_prefix(lab);
  if (max_nats <= 0 || !prefix || !uses_nat(teams)) {
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

Status check_backend(const model::Lab& lab, const std::vector<const model::Team*>& teams,
                     const model::BackendLimits& limits, const std::string& uri) {
  if (auto why = model::boot_refusal(limits, lab.image.boot); !why.empty()) {
    return Error::failure(fmt::format("{}: {} (host {})", lab.file, why, uri));
  }
  for (const model::Team* team : teams) {
    for (const model::Network& net : team->networks) {
      if (auto why = model::network_refusal(limits, net.kind); !why.empty()) {
        return Error::failure(
            fmt::format("{}: network {}: {} (host {})", lab.file, net.name, why, uri));
      }
    }
  }
  return {};
}

Status check_subnets(const model::Lab& lab, const std::vector<const model::Team*>& teams,
                     int max_nats, const std::vector<hv::HostNetwork>& networks,
                     const std::string& uri) {
  if (auto st = check_shared_nat(lab, teams, max_nats, networks, uri); !st) {
    return st;
  }
  for (const model::Team* team : teams) {
    for (const model::Network& net : team->networks) {
      for (const hv::HostNetwork& other : networks) {
        // A bridge network's subnet is the LAN's own, which the host may well be on.
        const bool lan = net.kind == model::NetworkKind::bridge;
        if (!net.subnet || lan || other.cidr.empty() || other.classroom == lab.classroom) {
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

}  // namespace labctl::plan
