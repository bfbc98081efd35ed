#include "provision/model/access.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "provision/model/names.hpp"

namespace labctl::model {

namespace {

int max_vm_index(const Lab& lab) {
  int most = 0;
  for (const Team& team : lab.teams) {
    most = std::max(most, static_cast<int>(team.vms.size()));
  }
  return most;
}

int vm_radix(int max_vm_index) {
  return max_vm_index <= 9 ? 10 : 100;
}

// The VM's address on its first nat network: where the host's forwarding points.
const Nic* nat_nic(const Team& team, const Vm& vm) {
  for (const Nic& nic : vm.nics) {
    for (const Network& net : team.networks) {
      if (net.name == nic.network && net.kind == NetworkKind::nat && !nic.ip.empty()) {
        return &nic;
      }
    }
  }
  return nullptr;
}

std::optional<Endpoint> base_endpoint(const Lab& lab, const Vm& vm) {
  const Team* team = lab.find_team(vm.team);
  const Nic* nic = team != nullptr && lab.access.enabled ? nat_nic(*team, vm) : nullptr;
  if (nic == nullptr) {
    return std::nullopt;
  }
  Endpoint base;
  base.team = vm.team;
  base.vm = vm.key;
  base.host = lab.access.host;
  base.listen = lab.access.listen;
  base.target_ip = nic->ip;
  return base;
}

int team_index(const Lab& lab, const Vm& vm) {
  const Team* team = lab.find_team(vm.team);
  return team != nullptr ? team->index : 0;
}

void add_vm(const Lab& lab, const Vm& vm, std::vector<Endpoint>& out) {
  if (auto ssh = ssh_endpoint(lab, vm)) {
    out.push_back(*ssh);
  }
  std::vector<const Instance*> instances;
  for (const Instance& instance : vm.instances) {
    instances.push_back(&instance);
  }
  std::stable_sort(instances.begin(), instances.end(),
                   [](const Instance* a, const Instance* b) { return a->port < b->port; });
  for (const Instance* instance : instances) {
    if (auto http = instance_endpoint(lab, vm, *instance)) {
      out.push_back(*http);
    }
  }
}

}  // namespace

std::string Endpoint::student_form(const std::string& user) const {
  if (kind == EndpointKind::ssh) {
    return fmt::format("ssh -p {} {}@{}", port, user, host);
  }
  return fmt::format("http://{}:{}/squash", host, port);
}

std::string Endpoint::private_form() const {
  if (kind == EndpointKind::ssh) {
    return fmt::format("{}:{}", target_ip, target_port);
  }
  return fmt::format("http://{}:{}/squash", target_ip, target_port);
}

int instance_slot(int port) {
  if (port < k_first_published_instance_port || port > k_last_published_instance_port) {
    return 0;
  }
  return port - k_first_published_instance_port + 1;
}

int endpoint_port(const AccessSettings& access, int max_vm_index, int team_index, int vm_index,
                  int slot) {
  const int radix = vm_radix(max_vm_index);
  return access.first_port + team_index * k_endpoint_slots * radix + slot * radix + vm_index;
}

int last_endpoint_port(const Lab& lab) {
  const int radix = vm_radix(max_vm_index(lab));
  const int teams = static_cast<int>(lab.teams.size());
  return lab.access.first_port + (teams + 1) * k_endpoint_slots * radix - 1;
}

std::optional<Endpoint> ssh_endpoint(const Lab& lab, const Vm& vm) {
  auto ssh = base_endpoint(lab, vm);
  if (!ssh || !lab.access.ssh) {
    return std::nullopt;
  }
  ssh->name = "ssh";
  ssh->kind = EndpointKind::ssh;
  ssh->port = endpoint_port(lab.access, max_vm_index(lab), team_index(lab, vm), vm.index, 0);
  ssh->target_port = k_ssh_port;
  return ssh;
}

std::optional<Endpoint> instance_endpoint(const Lab& lab, const Vm& vm, const Instance& instance) {
  auto http = base_endpoint(lab, vm);
  const int slot = instance_slot(instance.port);
  if (!http || slot == 0) {
    return std::nullopt;
  }
  http->name = instance.name;
  http->port = endpoint_port(lab.access, max_vm_index(lab), team_index(lab, vm), vm.index, slot);
  http->target_port = instance.port;
  return http;
}

std::vector<Endpoint> endpoints(const Lab& lab) {
  std::vector<Endpoint> out;
  if (!lab.access.enabled) {
    return out;
  }
  for (const Team& team : lab.teams) {
    for (const Vm& vm : team.vms) {
      add_vm(lab, vm, out);
    }
  }
  return out;
}

std::vector<Endpoint> endpoints(const Lab& lab, const std::string& team) {
  std::vector<Endpoint> out = endpoints(lab);
  std::erase_if(out, [&](const Endpoint& e) { return e.team != team; });
  return out;
}

std::vector<Endpoint> forwarded_endpoints(const Lab& lab, const std::string& team) {
  std::vector<Endpoint> out;
  const Team* found = lab.find_team(team);
  if (!lab.access.enabled || found == nullptr) {
    return out;
  }
  for (const Vm& vm : found->vms) {
    if (auto ssh = ssh_endpoint(lab, vm)) {
      out.push_back(*ssh);
    }
    for (int port = k_first_published_instance_port; port <= k_last_published_instance_port;
         ++port) {
      Instance slot;
      slot.name = std::to_string(port);
      slot.port = port;
      for (const Instance& instance : vm.instances) {
        if (instance.port == port) {
          slot.name = instance.name;
        }
      }
      if (auto http = instance_endpoint(lab, vm, slot)) {
        out.push_back(*http);
      }
    }
  }
  return out;
}

std::string endpoints_hash(const std::vector<Endpoint>& endpoints) {
  std::string text;
  for (const Endpoint& e : endpoints) {
    text += fmt::format("{}|{}|{}|{}|{}|{}|{};", e.vm, e.name, to_string(e.kind), e.listen, e.port,
                        e.target_ip, e.target_port);
  }
  return fmt::format("{:012x}", fnv1a64(text) & 0xffffffffffffULL);
}

std::string to_string(EndpointKind kind) {
  return kind == EndpointKind::ssh ? "ssh" : "http";
}

}  // namespace labctl::model
