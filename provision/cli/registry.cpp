// `labctl registry start|stop|status|prune`: the host's classroom registry (its use by `up`
// and `down`: converge/classroom_registry.hpp).

#include <fmt/format.h>

#include "provision/cli/common.hpp"
#include "provision/converge/classroom_registry.hpp"

namespace labctl::cli {

namespace {

std::string mib(std::uint64_t bytes) {
  return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
}

// The lab file's registry: settings when there is a lab file, else the defaults; then flags.
Result<registry::Settings> settings_for(const GlobalOptions& global,
                                        const converge::RegistryOverrides& overrides) {
  auto path = lab_file_path(global);
  std::error_code ec;
  if (!path || !std::filesystem::exists(*path, ec)) {
    return converge::registry_settings_for(nullptr, overrides);
  }
  auto lab = load(global);
  if (!lab) {
    return lab.error();
  }
  return converge::registry_settings_for(&*lab, overrides);
}

nlohmann::ordered_json record_json(const registry::Record& r) {
  return {{"address", r.address}, {"port", r.port},          {"upstream", r.upstream},
          {"pid", r.pid},         {"started_at", r.started}, {"interface", r.interface}};
}

Status run_start(const GlobalOptions& global, const converge::RegistryOverrides& args) {
  auto settings = settings_for(global, args);
  if (!settings) {
    return settings.error();
  }
  sys::SystemRunner runner;
  auto started = registry::start(*settings, runner);
  if (!started) {
    return started.error();
  }
  const registry::Record& r = started->record;
  if (global.json) {
    global.output->document = record_json(r);
    global.output->document["started"] = started->started;
    return {};
  }
  fmt::print("registry {} at {}:{} (pid {}), upstream {}\n",
             started->started ? "started" : "already running", r.address, r.port, r.pid,
             r.upstream.empty() ? "none (offline: the cache alone)" : r.upstream);
  return {};
}

Status run_stop(const GlobalOptions& global) {
  auto settings = settings_for(global, {});
  if (!settings) {
    return settings.error();
  }
  sys::SystemRunner runner;
  auto stopped = registry::stop(*settings, runner);
  if (!stopped) {
    return stopped.error();
  }
  if (global.json) {
    global.output->document = {{"stopped", stopped->was_running},
                               {"pid", stopped->pid},
                               {"killed", stopped->killed},
                               {"stale_pid_file_removed", stopped->stale_removed},
                               {"interface_removed", stopped->interface_removed}};
    return {};
  }
  if (stopped->was_running) {
    fmt::print("registry stopped (pid {}{}); its cache stays in {}\n", stopped->pid,
               stopped->killed ? ", killed after SIGTERM was not enough" : "",
               registry::paths_of(*settings).data.string());
  } else {
    fmt::print("registry was not running{}\n",
               stopped->stale_removed ? " (a stale pid file was removed)" : "");
  }
  return {};
}

Status run_status(const GlobalOptions& global) {
  auto found = settings_for(global, {});
  if (!found) {
    return found.error();
  }
  const converge::RegistryReport report = converge::registry_report(*found);
  const registry::State& state = report.state;
  const registry::Paths& paths = report.paths;
  const registry::Record& r = state.record;
  const std::string health = state.healthy ? "healthy" : state.running ? "unhealthy" : "stopped";
  if (global.json) {
    global.output->document = {{"running", state.running}, {"health", health}};
    if (state.running) {
      global.output->document.update(record_json(r));
    }
    global.output->document["http_status"] = state.http_status;
    global.output->document["storage_bytes"] = state.storage_bytes;
    global.output->document["storage"] = paths.data.string();
    global.output->document["users"] = report.users;
    global.output->document["detail"] = state.detail;
    return {};
  }
  fmt::print("health: {}{}\n", health, state.detail.empty() ? "" : " (" + state.detail + ")");
  if (state.running) {
    fmt::print("address: {}\nport: {}\nupstream: {}\npid: {}\nstarted: {}\n", r.address, r.port,
               r.upstream.empty() ? "none (offline)" : r.upstream, r.pid, r.started);
  }
  fmt::print("storage: {} in {}\nlog: {}\n", mib(state.storage_bytes), paths.data.string(),
             paths.log.string());
  return {};
}

Status run_prune(const GlobalOptions& global) {
  auto settings = settings_for(global, {});
  if (!settings) {
    return settings.error();
  }
  auto freed = registry::prune(*settings);
  if (!freed) {
    return freed.error();
  }
  if (global.json) {
    global.output->document = {{"freed_bytes", *freed}};
  } else {
    fmt::print("deleted {} of cached layers from {}\n", mib(*freed),
               registry::paths_of(*settings).data.string());
  }
  return {};
}

}  // namespace

void add_registry(Registry r) {
  auto* sub = r.app.add_subcommand(
      "registry",
      "The host's classroom registry: a pull-through cache of Docker Hub for the VMs' Docker");
  sub->require_subcommand(1);
  auto args = std::make_shared<converge::RegistryOverrides>();
  auto* start = sub->add_subcommand(
      "start", "Start it (the lab file's registry: settings, else 10.255.255.1:5000)");
  start->add_option("--address", args->address, "Host-only address (a dummy interface)");
  start->add_option("--port", args->port, "Port")->check(CLI::Range(1, 65535));
  start->add_option("--upstream", args->upstream, "Registry it caches (https://...)");
  start->add_flag("--offline", args->offline, "No upstream: serve what the cache holds");
  start->callback([r, args] { r.command = [r, args] { return run_start(r.global, *args); }; });
  auto* stop = sub->add_subcommand("stop", "Stop it (its cached layers stay)");
  stop->callback([r] { r.command = [r] { return run_stop(r.global); }; });
  auto* status = sub->add_subcommand(
      "status", "Address, port, upstream, pid, health (GET /v2/) and storage size");
  status->callback([r] { r.command = [r] { return run_status(r.global); }; });
  auto* prune = sub->add_subcommand(
      "prune", "Delete the cached layers (refused while it runs: stop it first)");
  prune->callback([r] { r.command = [r] { return run_prune(r.global); }; });
}

}  // namespace labctl::cli
