#include "provision/converge/classroom_registry.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdlib>

#include <fmt/format.h>

#include "provision/converge/standin.hpp"
#include "provision/images/images.hpp"
#include "provision/sys/process.hpp"

namespace labctl::converge {

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

Result<registry::Settings> registry_settings(const model::Lab& lab) {
  auto standin = classroom_is_standin(lab.classroom);
  if (!standin) {
    return standin.error();
  }
  return registry_settings(lab, *standin);
}

Result<registry::Settings> registry_settings_for(const model::Lab* lab,
                                                 const RegistryOverrides& overrides) {
  registry::Settings settings;
  settings.cache_dir = registry_cache_dir();
  if (lab != nullptr) {
    auto of_lab = registry_settings(*lab);
    if (!of_lab) {
      return of_lab.error();
    }
    settings = std::move(*of_lab);
  }
  settings.address = overrides.address.empty() ? settings.address : overrides.address;
  settings.port = overrides.port == 0 ? settings.port : overrides.port;
  settings.upstream = overrides.upstream.empty() ? settings.upstream : overrides.upstream;
  settings.upstream = overrides.offline ? "" : settings.upstream;
  if (auto st = registry::check_settings(settings); !st) {
    return st.error();
  }
  return settings;
}

RegistryReport registry_report(const registry::Settings& settings) {
  RegistryReport report;
  report.state = registry::status(settings);
  report.paths = registry::paths_of(settings);
  report.users = registry::users(settings);
  return report;
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

Result<registry::StartReport> start_classroom_registry(const Notify& notify,
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
  notify("warning",
         fmt::format("the classroom registry serves only what its cache holds (labctl images "
                     "load fills it): its upstream does not answer: {}",
                     started.error().message));
  return cached;
}

void start_registry_for_up(const Notify& notify, const model::Lab& lab, const plan::Scope& scope,
                           bool standin) {
  if (!registry_needed(lab, scope)) {
    return;
  }
  const registry::Settings settings = registry_settings(lab, standin);
  auto started = start_classroom_registry(notify, settings);
  if (!started) {
    notify("warning",
           "the classroom registry did not start, so each VM pulls from the upstream itself: " +
               started.error().message);
    return;
  }
  if (auto st = registry::add_user(settings, lab.classroom); !st) {
    notify("warning", st.error().message);
  }
  if (started->started) {
    notify("registry", fmt::format("started at {} (pid {})", registry::endpoint(settings),
                                   started->record.pid));
  }
}

void release_registry(const Notify& notify, const model::Lab& lab) {
  // After `down --all` the state is gone; the users and the stop need no upstream.
  const registry::Settings settings = registry_settings(lab, false);
  const auto listed = registry::users(settings);
  if (std::find(listed.begin(), listed.end(), lab.classroom) == listed.end()) {
    return;  // this classroom never used it: a registry started by hand stays
  }
  auto left = registry::remove_user(settings, lab.classroom);
  if (!left || *left > 0) {
    return;
  }
  stop_standins(notify, lab);
  sys::SystemRunner runner;
  auto stopped = registry::stop(settings, runner);
  if (!stopped) {
    notify("warning", "the classroom registry did not stop: " + stopped.error().message);
  } else if (stopped->was_running) {
    notify("registry",
           fmt::format("stopped (the last classroom using it is down); its cache stays in {} "
                       "(labctl registry prune deletes it)",
                       registry::paths_of(settings).data.string()));
  }
}

Status check_classroom_registry(const model::Lab& lab) {
  if (!model::uses_classroom_registry(lab)) {
    return Error::usage(lab.file +
                        ": the lab uses no classroom registry (registry.enabled is false, or "
                        "docker.registry_mirror names an outside mirror)");
  }
  return {};
}

Result<registry::Settings> running_registry(const Notify& notify, const model::Lab& lab) {
  if (auto st = check_classroom_registry(lab); !st) {
    return st.error();
  }
  auto settings = registry_settings(lab);
  if (!settings) {
    return settings.error();
  }
  auto started = start_classroom_registry(notify, *settings);
  if (!started) {
    return started.error();
  }
  if (started->started) {
    notify("registry", "started: " + started->record.describe());
  }
  return settings;
}

}  // namespace labctl::converge
