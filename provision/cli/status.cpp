#include "provision/cli/status.hpp"

#include <algorithm>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "provision/apply/access.hpp"
#include "provision/apply/guest.hpp"
#include "provision/cli/converge.hpp"
#include "provision/converge/guest_ssh.hpp"
#include "stacks/squashtm/health.hpp"

namespace labctl::cli {

namespace {

using Row = StatusRow;

// What the LAN's DHCP gave the VM's bridge NICs: asked now when the VM answers SSH, else
// what `up` recorded (state.json).
std::map<std::string, std::string> dhcp_addresses(const model::Lab& lab, const sys::StateDir& state,
                                                  const Row& row, const nlohmann::json& current) {
  std::map<std::string, std::string> out;
  if (!apply::has_dhcp_nic(*row.vm)) {
    return out;
  }
  if (row.readiness.reached >= ready::Stage::ssh) {
    auto remote = converge::connect_remote(lab, state, *row.vm);
    auto learned = remote ? apply::learn_dhcp_addresses(**remote, *row.vm)
                          : Result<std::map<std::string, std::string>>(remote.error());
    if (learned) {
      return *learned;
    }
  }
  for (const model::Nic& nic : row.vm->nics) {
    if (const std::string ip = apply::nic_address(current, *row.vm, nic); nic.dhcp && !ip.empty()) {
      out[nic.key] = ip;
    }
  }
  return out;
}

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
  const ready::Deps deps = converge::readiness_deps(lab, state, **hypervisor, &stop_flag());
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
    for (const model::Instance& instance : instances) {
      if (auto endpoint = model::instance_endpoint(lab, *row->vm, instance)) {
        row->published[instance.name] = *endpoint;
      }
    }
    threads.emplace_back([&lab, &deps, &state, row, instances, current] {
      row->readiness = ready::probe(lab, *row->vm, deps);
      row->dhcp = dhcp_addresses(lab, state, *row, current ? *current : nlohmann::json());
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

std::string private_url(const model::Vm& vm, const model::Instance& instance) {
  return fmt::format("http://{}:{}/squash", ready::vm_address(vm), instance.port);
}

// As students see it, the private URL after it: "http://lab-server:20311/squash
// (main 6.0.0 up; private http://10.146.4.11:8081/squash)".
std::string urls(const model::Vm& vm, const Row& row, bool with_health) {
  std::string out;
  for (const auto& [instance, healthy] : row.instances) {
    const auto published = row.published.find(instance.name);
    const bool is_published = published != row.published.end();
    out += fmt::format(
        "{}{} ({} {}{}{}{})", out.empty() ? "" : ", ",
        is_published ? published->second.student_form(row.user) : private_url(vm, instance),
        instance.name, instance.version, row.standin ? " standin" : "",
        with_health ? (healthy ? " up" : " down") : "",
        is_published ? "; private " + private_url(vm, instance) : "");
  }
  return out.empty() ? "-" : out;
}

std::string address_text(const Row& row) {
  const std::string ip = ready::vm_address(*row.vm);
  std::string out = row.planned() && !ip.empty() ? ip + " (planned)" : ip;
  for (const auto& [key, lan_ip] : row.dhcp) {
    out += fmt::format("{}{} {}", out.empty() ? "" : ", ", key, lan_ip);
  }
  return out;
}

nlohmann::ordered_json networks_json(const Row& row) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const model::Nic& nic : row.vm->nics) {
    const auto learned = row.dhcp.find(nic.key);
    const std::string ip = nic.dhcp ? (learned == row.dhcp.end() ? "" : learned->second) : nic.ip;
    out.push_back({{"network", nic.key}, {"ip", ip}, {"dhcp", nic.dhcp}});
  }
  return out;
}

void print_rows(const GlobalOptions& global, const std::vector<Row>& rows) {
  if (global.json) {
    global.output->document = status_json(rows);
    return;
  }
  const bool ssh = std::any_of(rows.begin(), rows.end(), [](const Row& r) { return r.ssh; });
  std::vector<std::vector<std::string>> table;
  for (const Row& row : rows) {
    table.push_back({row.vm->team, row.vm->key, row.host, row.state, address_text(row),
                     row.memory ? plan::format_size(row.memory) : "-",
                     ready::to_string(row.readiness.reached), urls(*row.vm, row, true)});
    if (ssh) {
      table.back().push_back(row.ssh ? row.ssh->student_form(row.user) : "-");
    }
  }
  std::vector<std::string> header = {"TEAM", "VM",     "HOST",  "STATE",
                                     "IP",   "MEMORY", "STAGE", "INSTANCES"};
  if (ssh) {
    header.emplace_back("SSH");
  }
  print_table(header, table);
  if (!rows.empty() && rows.front().standin) {
    fmt::print(
        "\nstandin: the stack is labctl's stand-in image (`up --standin`), not Squash TM.\n");
  }
}

Status run_status(const GlobalOptions& global, const std::string& team) {
  auto context = open_status(global, team);
  if (!context) {
    return context.error();
  }
  print_rows(global, probe_status(global, *context));
  return {};
}

void add_watch_options(CLI::App* sub, WatchOptions& options) {
  sub->add_option("--interval", options.interval, "Seconds between probes (default 2)")
      ->check(CLI::Range(1, 3600));
  sub->add_option("--count", options.count, "Stop after N probes (default: until q or Ctrl-C)")
      ->check(CLI::NonNegativeNumber);
}

}  // namespace

Result<StatusContext> open_status(const GlobalOptions& global, const std::string& team) {
  auto lab = load(global);
  if (!lab) {
    return lab.error();
  }
  auto scope =
      scope_of(*lab, team.empty() ? std::vector<std::string>{} : std::vector{team}, team.empty());
  auto state = sys::StateDir::open_read_only(lab->classroom);  // status creates nothing
  if (!scope || !state) {
    return !scope ? scope.error() : state.error();
  }
  return StatusContext{std::move(*lab), std::move(*scope), std::move(*state)};
}

std::vector<StatusRow> status_rows(const GlobalOptions& global, const StatusContext& context) {
  auto current = context.state.read_state();
  const bool standin = current && current->value("standin", false);
  std::vector<Row> rows;
  for (const model::Team& t : context.lab.teams) {
    for (const model::Vm& vm : t.vms) {
      if (context.scope.covers(t.name)) {
        rows.push_back({&vm, host_uri(global, context.lab, &t)});
        rows.back().standin = standin;
        rows.back().ssh = model::ssh_endpoint(context.lab, vm);
        rows.back().user = context.lab.admin_user;
      }
    }
  }
  return rows;
}

std::vector<StatusRow> probe_status(const GlobalOptions& global, const StatusContext& context) {
  const model::Lab& lab = context.lab;
  std::vector<Row> rows = status_rows(global, context);
  for (const auto& [uri, teams] : teams_by_host(global, lab, context.scope)) {
    std::vector<Row*> host_rows;
    for (Row& row : rows) {
      if (row.host == uri) {
        host_rows.push_back(&row);
      }
    }
    probe_host(lab, context.state, uri, host_rows);
  }
  return rows;
}

nlohmann::ordered_json status_json(const std::vector<StatusRow>& rows) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const Row& row : rows) {
    nlohmann::ordered_json instances = nlohmann::ordered_json::array();
    for (const auto& [instance, healthy] : row.instances) {
      instances.push_back({{"name", instance.name},
                           {"version", instance.version},
                           {"url", private_url(*row.vm, instance)},
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

void add_status(Registry r) {
  auto* sub = r.app.add_subcommand("status", "Every team's VMs: state, address, stage, instances");
  auto watch = std::make_shared<WatchOptions>();
  auto watching = std::make_shared<bool>(false);
  sub->add_option("TEAM", watch->team, "Only this team");
  sub->add_flag("-w,--watch", *watching, "Probe again every interval and redraw in place");
  add_watch_options(sub, *watch);
  sub->callback([r, sub, watch, watching] {
    if (!*watching && (sub->count("--interval") > 0 || sub->count("--count") > 0)) {
      r.command = [] { return Status(Error::usage("--interval and --count go with --watch")); };
      return;
    }
    r.command = [r, watch, watching] {
      return *watching ? run_watch(r.global, *watch) : run_status(r.global, watch->team);
    };
  });
  auto* top = r.app.add_subcommand("top", "The classroom live view: `status --watch`");
  auto top_options = std::make_shared<WatchOptions>();
  top->add_option("TEAM", top_options->team, "Only this team");
  add_watch_options(top, *top_options);
  top->callback([r, top_options] {
    r.command = [r, top_options] { return run_watch(r.global, *top_options); };
  });
}

}  // namespace labctl::cli
