#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "provision/cli/common.hpp"
#include "provision/model/access.hpp"
#include "provision/plan/plan.hpp"

namespace labctl::cli {

namespace {

nlohmann::ordered_json network_json(const model::Network& net) {
  return {{"key", net.key},
          {"name", net.name},
          {"kind", model::to_string(net.kind)},
          {"bridge", net.bridge},
          {"subnet", net.subnet ? net.subnet->cidr() : ""},
          {"gateway", net.gateway}};
}

// Students' access: what the host publishes of the VM, as students use it.
nlohmann::ordered_json endpoints_json(const model::Lab& lab, const model::Vm& vm) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const model::Endpoint& e : model::endpoints(lab, vm.team)) {
    if (e.vm == vm.key) {
      out.push_back({{"name", e.name},
                     {"kind", model::to_string(e.kind)},
                     {"host", e.host},
                     {"port", e.port},
                     {"listen", e.listen},
                     {"student", e.student_form(lab.admin_user)},
                     {"private", e.private_form()}});
    }
  }
  return out;
}

nlohmann::ordered_json vm_json(const model::Lab& lab, const model::Vm& vm) {
  nlohmann::ordered_json nics = nlohmann::ordered_json::array();
  for (const model::Nic& nic : vm.nics) {
    nics.push_back({{"network", nic.network},
                    {"mac", nic.mac},
                    {"ip", nic.ip},
                    {"dhcp", nic.dhcp},
                    {"prefix", nic.prefix},
                    {"gateway", nic.gateway}});
  }
  nlohmann::ordered_json instances = nlohmann::ordered_json::array();
  for (const model::Instance& i : vm.instances) {
    instances.push_back({{"name", i.name},
                         {"version", i.version},
                         {"port", i.port},
                         {"db", model::to_string(i.db)},
                         {"image", i.image + ":" + i.version}});
  }
  return {{"key", vm.key},
          {"name", vm.name},
          {"hostname", vm.hostname},
          {"memory", plan::format_size(vm.memory)},
          {"vcpus", vm.vcpus},
          {"disk", plan::format_size(vm.disk)},
          {"spec_hash", vm.spec_hash},
          {"nics", nics},
          {"instances", instances},
          {"published", endpoints_json(lab, vm)}};
}

void print_endpoints(const model::Lab& lab, const model::Team& team) {
  std::vector<std::vector<std::string>> rows;
  for (const model::Endpoint& e : model::endpoints(lab, team.name)) {
    rows.push_back({e.vm, e.name, e.student_form(lab.admin_user), e.private_form()});
  }
  if (!rows.empty()) {
    fmt::print("\n");
    print_table({"VM", "PUBLISHED", "STUDENTS USE", "PRIVATE"}, rows);
  }
}

void print_team(const model::Lab& lab, const model::Team& team) {
  fmt::print("team {}\n\n", team.name);
  std::vector<std::vector<std::string>> nets;
  for (const model::Network& net : team.networks) {
    nets.push_back({net.key, net.name, model::to_string(net.kind), net.bridge,
                    net.subnet ? net.subnet->cidr() : "-",
                    net.gateway.empty() ? "-" : net.gateway});
  }
  print_table({"NETWORK", "NAME", "KIND", "BRIDGE", "SUBNET", "GATEWAY"}, nets);
  fmt::print("\n");
  std::vector<std::vector<std::string>> rows;
  for (const model::Vm& vm : team.vms) {
    for (const model::Nic& nic : vm.nics) {
      rows.push_back({vm.key, plan::format_size(vm.memory), std::to_string(vm.vcpus), nic.key,
                      nic.mac, nic.ip.empty() ? "-" : nic.ip});
    }
  }
  print_table({"VM", "MEMORY", "VCPUS", "NIC", "MAC", "IP"}, rows);
  fmt::print("\n");
  std::vector<std::vector<std::string>> inst;
  for (const model::Vm& vm : team.vms) {
    for (const model::Instance& i : vm.instances) {
      inst.push_back({vm.key, i.name, i.version, std::to_string(i.port), model::to_string(i.db)});
    }
  }
  print_table({"VM", "INSTANCE", "VERSION", "PORT", "DB"}, inst);
  print_endpoints(lab, team);
}

nlohmann::ordered_json team_json(const model::Lab& lab, const model::Team& team) {
  nlohmann::ordered_json nets = nlohmann::ordered_json::array();
  for (const model::Network& net : team.networks) {
    nets.push_back(network_json(net));
  }
  nlohmann::ordered_json vms = nlohmann::ordered_json::array();
  for (const model::Vm& vm : team.vms) {
    vms.push_back(vm_json(lab, vm));
  }
  return {{"team", team.name}, {"host", team.host}, {"networks", nets}, {"vms", vms}};
}

}  // namespace

void add_show(Registry r) {
  auto* sub = r.app.add_subcommand("show", "Print a team as expanded: VMs, NICs, MACs, IPs, ports");
  auto team = std::make_shared<std::string>();
  sub->add_option("TEAM", *team, "Team name")->required();
  sub->callback([r, team] {
    r.command = [r, team]() -> Status {
      auto lab = load(r.global);
      if (!lab) {
        return lab.error();
      }
      auto scope = scope_of(*lab, {*team}, false);
      if (!scope) {
        return scope.error();
      }
      const model::Team* t = lab->find_team(*team);
      if (r.global.json) {
        r.global.output->document = team_json(*lab, *t);
      } else {
        print_team(*lab, *t);
      }
      return {};
    };
  });
}

}  // namespace labctl::cli
