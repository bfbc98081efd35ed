#include "provision/converge/status.hpp"

#include <algorithm>
#include <thread>

#include <nlohmann/json.hpp>

#include "provision/apply/access.hpp"
#include "provision/converge/guest_ssh.hpp"
#include "provision/converge/host.hpp"
#include "provision/converge/instances.hpp"
#include "provision/sys/http.hpp"
#include "stacks/squashtm/health.hpp"

namespace labctl::converge {

namespace {

using Row = StatusRow;

// What the LAN's DHCP gave the VM's bridge NICs: asked now when the VM answers SSH, else
// what `up` recorded (state.json).
std::map<std::string, std::string> dhcp_addresses(const model::Lab& lab, const sys::StateDir& state,
                                                  const Row& row,
                                                  const sys::ClassroomState& current) {
  std::map<std::string, std::string> out;
  if (!apply::has_dhcp_nic(*row.vm)) {
    return out;
  }
  if (row.readiness.reached >= ready::Stage::ssh) {
    auto remote = connect_remote(lab, state, *row.vm);
    auto learned = remote ? apply::learn_dhcp_addresses(**remote, *row.vm)
                          : Result<std::map<std::string, std::string>>(remote.error());
    if (learned) {
      return *learned;
    }
  }
  for (const model::Nic& nic : row.vm->nics) {
    if (const std::string ip = current.nic_address(*row.vm, nic); nic.dhcp && !ip.empty()) {
      out[nic.key] = ip;
    }
  }
  return out;
}

// One host's VMs: their domain state from the inventory, then a quick probe per VM.
void probe_host(const model::Lab& lab, const sys::StateDir& state,
                const sys::ClassroomState& current, const std::string& uri, std::vector<Row*>& rows,
                const std::atomic<bool>* stop) {
  auto hypervisor = hv::open_hypervisor(uri);
  auto inventory = hypervisor ? (*hypervisor)->inventory(lab.classroom)
                              : Result<hv::Inventory>(hypervisor.error());
  if (!inventory) {
    for (Row* row : rows) {
      row->state = "unreachable";
      row->readiness.message = inventory.error().message;
    }
    return;
  }
  const ready::Deps deps = readiness_deps(lab, state, **hypervisor, stop);
  sys::CurlHttpClient http;
  std::vector<std::jthread> threads;
  for (Row* row : rows) {
    if (const hv::Object* dom = inventory->find(hv::ObjectKind::domain, row->vm->name)) {
      row->state = hv::to_string(dom->state);
      row->memory = dom->memory;
    }
    if (row->state == "absent") {
      continue;
    }
    const auto& instances = row->recorded;
    for (const model::Instance& instance : instances) {
      if (auto endpoint = model::instance_endpoint(lab, *row->vm, instance)) {
        row->published[instance.name] = *endpoint;
      }
    }
    threads.emplace_back([&lab, &deps, &state, &current, &http, row, &instances] {
      row->readiness = ready::probe(lab, *row->vm, deps);
      row->dhcp = dhcp_addresses(lab, state, *row, current);
      for (const model::Instance& instance : instances) {
        const bool ok = row->readiness.reached >= ready::Stage::docker &&
                        squashtm::probe_health(http, ready::vm_address(*row->vm), instance.port,
                                               std::chrono::milliseconds(1500))
                            .healthy;
        row->instances.emplace_back(instance, ok);
      }
    });
  }
}

}  // namespace

Result<StatusContext> open_status(model::Lab lab, plan::Scope scope) {
  auto state = sys::StateDir::open_read_only(lab.classroom);  // status creates nothing
  if (!state) {
    return state.error();
  }
  return StatusContext{std::move(lab), std::move(scope), std::move(*state)};
}

namespace {

// What every row needs read once: the classroom's state and the hosts of the scope's teams.
struct Snapshot {
  sys::ClassroomState current;
  std::vector<HostTeams> hosts;
};

Result<Snapshot> snapshot(const HostChoice& hosts, const StatusContext& context) {
  auto current = context.state.read_state();
  if (!current) {
    return current.error();
  }
  // One read: the teams' recorded placement is in the same file.
  auto groups = teams_by_host(hosts, context.lab, context.scope, current->placement);
  return Snapshot{std::move(*current), std::move(groups)};
}

std::vector<Row> rows_of(const StatusContext& context, const Snapshot& snap) {
  std::map<const model::Team*, std::string> uri_of;
  for (const HostTeams& host : snap.hosts) {
    for (const model::Team* team : host.teams) {
      uri_of[team] = host.uri;
    }
  }
  std::vector<Row> rows;
  for (const model::Team& t : context.lab.teams) {
    for (const model::Vm& vm : t.vms) {
      if (context.scope.covers(t.name)) {
        rows.push_back({&vm, uri_of[&t]});
        rows.back().standin = snap.current.standin;
        rows.back().recorded = snap.current.effective_instances(vm);
        rows.back().ssh = model::ssh_endpoint(context.lab, vm);
        rows.back().user = context.lab.admin_user;
      }
    }
  }
  return rows;
}

}  // namespace

Result<std::vector<StatusRow>> status_rows(const HostChoice& hosts, const StatusContext& context) {
  auto snap = snapshot(hosts, context);
  if (!snap) {
    return snap.error();
  }
  return rows_of(context, *snap);
}

Result<std::vector<StatusRow>> probe_status(const HostChoice& hosts, const StatusContext& context,
                                            const std::atomic<bool>* stop) {
  auto snap = snapshot(hosts, context);
  if (!snap) {
    return snap.error();
  }
  std::vector<Row> rows = rows_of(context, *snap);
  for (const HostTeams& host : snap->hosts) {
    std::vector<Row*> host_rows;
    for (Row& row : rows) {
      if (row.host == host.uri) {
        host_rows.push_back(&row);
      }
    }
    probe_host(context.lab, context.state, snap->current, host.uri, host_rows, stop);
  }
  return rows;
}

namespace {

nlohmann::ordered_json networks_json(const StatusRow& row) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const model::Nic& nic : row.vm->nics) {
    const auto learned = row.dhcp.find(nic.key);
    const std::string ip = nic.dhcp ? (learned == row.dhcp.end() ? "" : learned->second) : nic.ip;
    out.push_back({{"network", nic.key}, {"ip", ip}, {"dhcp", nic.dhcp}});
  }
  return out;
}

}  // namespace

nlohmann::ordered_json status_json(const std::vector<StatusRow>& rows) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const StatusRow& row : rows) {
    nlohmann::ordered_json instances = nlohmann::ordered_json::array();
    for (const auto& [instance, healthy] : row.instances) {
      instances.push_back({{"name", instance.name},
                           {"version", instance.version},
                           {"url", instance_url(*row.vm, instance.port)},
                           {"healthy", healthy}});
      if (const auto published = row.published.find(instance.name);
          published != row.published.end()) {
        instances.back()["published_url"] = published->second.student_form(row.user);
        instances.back()["published_port"] = published->second.port;
      }
    }
    out.push_back({{"team", row.vm->team},
                   {"vm", row.vm->key},
                   {"host", row.host},
                   {"state", row.state},
                   {"ip", ready::vm_address(*row.vm)},
                   {"ip_planned", row.planned()},
                   {"networks", networks_json(row)},
                   {"memory", row.memory},
                   {"stage", ready::to_string(row.readiness.reached)},
                   {"detail", row.readiness.message},
                   {"standin", row.standin},
                   {"instances", instances}});
    if (row.ssh) {
      out.back()["ssh"] = {{"command", row.ssh->student_form(row.user)},
                           {"host", row.ssh->host},
                           {"port", row.ssh->port},
                           {"private", row.ssh->private_form()}};
    }
  }
  return out;
}

}  // namespace labctl::converge
