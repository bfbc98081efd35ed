#include "provision/cli/status.hpp"

#include <algorithm>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "provision/cli/converge.hpp"
#include "provision/converge/instances.hpp"

namespace labctl::cli {

namespace {

using Row = StatusRow;

std::string private_url(const model::Vm& vm, const model::Instance& instance) {
  return converge::instance_url(vm, instance.port);
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

void print_rows(const GlobalOptions& global, const std::vector<Row>& rows) {
  if (global.json) {
    global.output->document = converge::status_json(rows);
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
  auto rows = probe_status(global, *context);
  if (!rows) {
    return rows.error();
  }
  print_rows(global, *rows);
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
  if (!scope) {
    return scope.error();
  }
  return converge::open_status(std::move(*lab), std::move(*scope));
}

Result<std::vector<StatusRow>> status_rows(const GlobalOptions& global,
                                           const StatusContext& context) {
  return converge::status_rows(hosts_of(global), context);
}

Result<std::vector<StatusRow>> probe_status(const GlobalOptions& global,
                                            const StatusContext& context) {
  return converge::probe_status(hosts_of(global), context, &stop_flag());
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
