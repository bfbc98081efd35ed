#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "provision/apply/guest.hpp"
#include "provision/cli/converge.hpp"
#include "stacks/squashtm/health.hpp"

namespace labctl::cli {

namespace {

struct Row {
  const model::Vm* vm = nullptr;
  std::string host;
  std::string state = "absent";
  model::Bytes memory = 0;
  ready::VmReadiness readiness;
  std::vector<std::pair<model::Instance, bool>> instances;  // healthy?
};

// One host's VMs: their domain state from the inventory, then a quick probe per VM.
void probe_host(const model::Lab& lab, const sys::StateDir& state, const std::string& uri,
                std::vector<Row*>& rows) {
  auto hypervisor = connect(uri);
  auto inventory = hypervisor ? (*hypervisor)->inventory(lab.classroom)
                              : Result<hv::Inventory>(hypervisor.error());
  if (!inventory) {
    for (Row* row : rows) {
      row->state = "unreachable";
      row->readiness.message = inventory.error().message;
    }
    return;
  }
  auto current = state.read_state();
  const ready::Deps deps = readiness_deps(lab, state, **hypervisor);
  std::vector<std::jthread> threads;
  for (Row* row : rows) {
    if (const hv::Object* dom = inventory->find(hv::ObjectKind::domain, row->vm->name)) {
      row->state = hv::to_string(dom->state);
      row->memory = dom->memory;
    }
    if (row->state == "absent") {
      continue;
    }
    const auto instances =
        apply::effective_instances(*row->vm, current ? *current : nlohmann::json());
    threads.emplace_back([&lab, &deps, row, instances] {
      row->readiness = ready::probe(lab, *row->vm, deps);
      for (const model::Instance& instance : instances) {
        const bool ok = row->readiness.reached >= ready::Stage::docker &&
                        squashtm::probe_health(ready::vm_address(*row->vm), instance.port,
                                               std::chrono::milliseconds(1500))
                            .healthy;
        row->instances.emplace_back(instance, ok);
      }
    });
  }
}

std::string urls(const model::Vm& vm, const Row& row, bool with_health) {
  std::string out;
  for (const auto& [instance, healthy] : row.instances) {
    out += fmt::format("{}http://{}:{}/squash ({} {}{})", out.empty() ? "" : ", ",
                       ready::vm_address(vm), instance.port, instance.name, instance.version,
                       with_health ? (healthy ? " up" : " down") : "");
  }
  return out.empty() ? "-" : out;
}

void print_rows(const GlobalOptions& global, const std::vector<Row>& rows) {
  if (!global.json) {
    std::vector<std::vector<std::string>> table;
    for (const Row& row : rows) {
      table.push_back({row.vm->team, row.vm->key, row.host, row.state, ready::vm_address(*row.vm),
                       row.memory ? plan::format_size(row.memory) : "-",
                       ready::to_string(row.readiness.reached), urls(*row.vm, row, true)});
    }
    print_table({"TEAM", "VM", "HOST", "STATE", "IP", "MEMORY", "STAGE", "INSTANCES"}, table);
    return;
  }
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const Row& row : rows) {
    nlohmann::ordered_json instances = nlohmann::ordered_json::array();
    for (const auto& [instance, healthy] : row.instances) {
      instances.push_back(
          {{"name", instance.name},
           {"version", instance.version},
           {"url", fmt::format("http://{}:{}/squash", ready::vm_address(*row.vm), instance.port)},
           {"healthy", healthy}});
    }
    out.push_back({{"team", row.vm->team},
                   {"vm", row.vm->key},
                   {"host", row.host},
                   {"state", row.state},
                   {"ip", ready::vm_address(*row.vm)},
                   {"memory", row.memory},
                   {"stage", ready::to_string(row.readiness.reached)},
                   {"detail", row.readiness.message},
                   {"instances", instances}});
  }
  fmt::print("{}\n", out.dump(2));
}

Status run_status(const GlobalOptions& global, const std::string& team) {
  auto lab = load(global);
  if (!lab) {
    return lab.error();
  }
  auto scope =
      scope_of(*lab, team.empty() ? std::vector<std::string>{} : std::vector{team}, team.empty());
  auto state = sys::StateDir::open(lab->classroom);
  if (!scope || !state) {
    return !scope ? scope.error() : state.error();
  }
  std::vector<Row> rows;
  for (const model::Team& t : lab->teams) {
    for (const model::Vm& vm : t.vms) {
      if (scope->covers(t.name)) {
        rows.push_back({&vm, host_uri(global, *lab, &t)});
      }
    }
  }
  for (const auto& [uri, teams] : teams_by_host(global, *lab, *scope)) {
    std::vector<Row*> host_rows;
    for (Row& row : rows) {
      if (row.host == uri) {
        host_rows.push_back(&row);
      }
    }
    probe_host(*lab, *state, uri, host_rows);
  }
  print_rows(global, rows);
  return {};
}

}  // namespace

void add_status(Registry r) {
  auto* sub = r.app.add_subcommand("status", "Every team's VMs: state, address, stage, instances");
  auto team = std::make_shared<std::string>();
  sub->add_option("TEAM", *team, "Only this team");
  sub->callback([r, team] { r.command = [r, team] { return run_status(r.global, *team); }; });
}

}  // namespace labctl::cli
