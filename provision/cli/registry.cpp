// `labctl registry start|stop|status|prune`: the host's classroom registry, and its use by
// `up` and `down` (registry.hpp).

#include "provision/cli/registry.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdlib>

#include <fmt/format.h>

#include "provision/cli/standin.hpp"
#include "provision/images/images.hpp"

namespace labctl::cli {

namespace {

struct RegistryArgs {
  std::string address;
  int port = 0;
  std::string upstream;
  bool offline = false;  // start: no upstream, the cache alone
};

std::string mib(std::uint64_t bytes) {
  return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
}

// The lab file's registry: settings when there is a lab file, else the defaults; then flags.
Result<registry::Settings> settings_for(const GlobalOptions& global, const RegistryArgs& args) {
  registry::Settings settings;
  settings.cache_dir = registry_cache_dir();
  auto path = lab_file_path(global);
  std::error_code ec;
  if (path && std::filesystem::exists(*path, ec)) {
    auto lab = load(global);
    if (!lab) {
      return lab.error();
    }
    settings = registry_settings(*lab);
  }
  settings.address = args.address.empty() ? settings.address : args.address;
  settings.port = args.port == 0 ? settings.port : args.port;
  settings.upstream = args.upstream.empty() ? settings.upstream : args.upstream;
  settings.upstream = args.offline ? "" : settings.upstream;
  if (auto st = registry::check_settings(settings); !st) {
    return st.error();
  }
  return settings;
}

nlohmann::ordered_json record_json(const registry::Record& r) {
  return {{"address", r.address}, {"port", r.port},          {"upstream", r.upstream},
          {"pid", r.pid},         {"started_at", r.started}, {"interface", r.interface}};
}

Status run_start(const GlobalOptions& global, const RegistryArgs& args) {
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
  auto settings = settings_for(global, RegistryArgs{});
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
               registry::paths_of({}).data.string());
  } else {
    fmt::print("registry was not running{}\n",
               stopped->stale_removed ? " (a stale pid file was removed)" : "");
  }
  return {};
}

Status run_status(const GlobalOptions& global) {
  auto found = settings_for(global, RegistryArgs{});
  if (!found) {
    return found.error();
  }
  const registry::Settings& settings = *found;
  const registry::State state = registry::status(settings);
  const registry::Paths paths = registry::paths_of(settings);
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
    global.output->document["users"] = registry::users(settings);
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
  auto settings = settings_for(global, RegistryArgs{});
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
               registry::paths_of({}).data.string());
  }
  return {};
}

}  // namespace

std::string registry_cache_dir() {
  const char* dir = std::getenv("LABCTL_REGISTRY_CACHE");
  return dir != nullptr && *dir != '\0' ? dir : images::default_cache_dir();
}

registry::Settings registry_settings(const model::Lab& lab, bool standin) {
  registry::Settings settings;
  settings.address = lab.registry.address;
  settings.port = lab.registry.port;
  settings.upstream = standin ? standin_upstream(lab) : lab.registry.upstream;
  settings.cache_dir = registry_cache_dir();
  // The default address gets the default device; another address its own, so that a second
  // registry (a test's) never takes over the first one's device.
  if (settings.address != registry::k_default_address) {
    struct in_addr parsed {};
    if (::inet_pton(AF_INET, settings.address.c_str(), &parsed) == 1) {
      settings.interface = fmt::format("lctreg-{:08x}", ntohl(parsed.s_addr));
    }
  }
  return settings;
}

registry::Settings registry_settings(const model::Lab& lab) {
  return registry_settings(lab, classroom_is_standin(lab.classroom));
}

bool serves_cache_of(const registry::State& state, const registry::Settings& settings) {
  registry::Settings offline = settings;
  offline.upstream = "";
  return state.running && !settings.upstream.empty() && state.record.same_as(offline);
}

bool registry_needed(const model::Lab& lab, const plan::Scope& scope) {
  if (!model::uses_classroom_registry(lab)) {
    return false;
  }
  for (const model::Team& team : lab.teams) {
    for (const model::Vm& vm : team.vms) {
      if (scope.covers(team.name) && !vm.instances.empty()) {
        return true;
      }
    }
  }
  return false;
}

Status check_registry_for_up(const model::Lab& lab, const plan::Scope& scope, bool standin) {
  if (!registry_needed(lab, scope)) {
    return {};
  }
  const registry::Settings settings = registry_settings(lab, standin);
  const registry::State state = registry::status(settings);
  if (state.running && !state.record.same_as(settings) && !serves_cache_of(state, settings)) {
    return Error::failure(fmt::format(
        "up refused, nothing was changed: the classroom registry runs (pid {}) with {}, but "
        "{} asks for {}: give the lab the same registry: settings, or stop it (labctl "
        "registry stop) when no other classroom uses it",
        state.record.pid, state.record.describe(), lab.file,
        registry::Record{settings.address, settings.port, settings.upstream}.describe()));
  }
  return {};
}

Result<registry::StartReport> start_classroom_registry(const GlobalOptions& global,
                                                       const registry::Settings& settings) {
  const registry::State now = registry::status(settings);
  if (serves_cache_of(now, settings)) {
    return registry::StartReport{now.record, false, false};
  }
  sys::SystemRunner runner;
  auto started = registry::start(settings, runner);
  if (started || settings.upstream.empty() || now.running) {
    return started;
  }
  registry::Settings offline = settings;
  offline.upstream = "";
  auto cached = registry::start(offline, runner);
  if (!cached) {
    return started.error();
  }
  notice(global, "warning",
         fmt::format("the classroom registry serves only what its cache holds (labctl images "
                     "load fills it): its upstream does not answer: {}",
                     started.error().message));
  return cached;
}

void start_registry_for_up(const GlobalOptions& global, const model::Lab& lab,
                           const plan::Scope& scope, bool standin) {
  if (!registry_needed(lab, scope)) {
    return;
  }
  const registry::Settings settings = registry_settings(lab, standin);
  auto started = start_classroom_registry(global, settings);
  if (!started) {
    notice(global, "warning",
           "the classroom registry did not start, so each VM pulls from the upstream itself: " +
               started.error().message);
    return;
  }
  if (auto st = registry::add_user(settings, lab.classroom); !st) {
    notice(global, "warning", st.error().message);
  }
  if (started->started) {
    notice(
        global, "registry",
        fmt::format("started at {} (pid {})", registry::endpoint(settings), started->record.pid));
  }
}

void release_registry(const GlobalOptions& global, const model::Lab& lab) {
  const registry::Settings settings = registry_settings(lab);
  const auto listed = registry::users(settings);
  if (std::find(listed.begin(), listed.end(), lab.classroom) == listed.end()) {
    return;  // this classroom never used it: a registry started by hand stays
  }
  auto left = registry::remove_user(settings, lab.classroom);
  if (!left || *left > 0) {
    return;
  }
  stop_standins(global, lab);
  sys::SystemRunner runner;
  auto stopped = registry::stop(settings, runner);
  if (!stopped) {
    notice(global, "warning", "the classroom registry did not stop: " + stopped.error().message);
  } else if (stopped->was_running) {
    notice(global, "registry",
           fmt::format("stopped (the last classroom using it is down); its cache stays in {} "
                       "(labctl registry prune deletes it)",
                       registry::paths_of(settings).data.string()));
  }
}

void add_registry(Registry r) {
  auto* sub = r.app.add_subcommand(
      "registry",
      "The host's classroom registry: a pull-through cache of Docker Hub for the VMs' Docker");
  sub->require_subcommand(1);
  auto args = std::make_shared<RegistryArgs>();
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
