#include "provision/converge/up.hpp"

#include <algorithm>
#include <chrono>
#include <future>

#include <fmt/format.h>

#include "provision/converge/cache_fill.hpp"
#include "provision/converge/classroom_registry.hpp"
#include "provision/converge/identity.hpp"
#include "provision/converge/standin.hpp"
#include "provision/converge/versions.hpp"
#include "provision/sys/classroom_state.hpp"

namespace labctl::converge {

namespace {

// Fills the classroom registry with the scope's images; a failure is the VMs' to meet (they
// pull through the cache anyway), so it is reported, not fatal.
void fill_for_up(const model::Lab& lab, const plan::Scope& scope, bool standin,
                 sys::Reporter& reporter) {
  if (!registry_needed(lab, scope)) {
    return;
  }
  const registry::Settings settings = registry_settings(lab, standin);
  if (!registry::status(settings).healthy) {
    return;
  }
  auto uses = needed_images(lab, scope.all ? std::vector<std::string>{} : scope.teams);
  if (!uses) {
    return;
  }
  const auto start = std::chrono::steady_clock::now();
  auto filled = fill_cache(settings, *uses, {});
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!filled) {
    reporter.report({"", "", "cache images", sys::EventState::failed,
                     filled.error().message + " (the VMs pull through the cache anyway)", seconds});
    return;
  }
  std::uint64_t bytes = 0;
  for (const registry::Image& image : *filled) {
    bytes += image.size();
  }
  reporter.report(
      {"", "", "cache images", sys::EventState::done,
       fmt::format("{} images, {} MiB in the classroom registry", filled->size(), bytes >> 20),
       seconds});
}

// The classroom's records, once `up` is going to change the hosts, in one update: the
// stand-in flag, the placement, and the students' port range (other classrooms' `plan` keep
// theirs apart).
Status record_up(const sys::StateDir& state, const model::Lab& lab, const UpRequest& request,
                 const UpChecked& checked) {
  return state.update_state([&](sys::ClassroomState& s) {
    s.standin = s.standin || request.standin;
    record_placement(s, checked.placement);
    s.access = lab.access.enabled ? std::optional(sys::access_record(lab.access)) : std::nullopt;
  });
}

}  // namespace

Result<UpChecked> check_up(const Notify& notify, model::Lab& lab, const UpRequest& request) {
  UpChecked checked;
  // A stand-in classroom (this flag, or an earlier `up --standin`) caches the host's
  // stand-in registry: its images are built first, so that their versions resolve.
  auto recorded = classroom_is_standin(lab.classroom);
  if (!recorded) {
    return recorded.error();
  }
  checked.standin = request.standin || *recorded;
  if (checked.standin && !request.dry_run) {
    if (auto st = ensure_lab_standins(notify, lab, request.scope); !st) {
      return st.error();
    }
  }
  if (auto st = check_versions(notify, lab, request.scope, checked.standin); !st) {
    return st.error();
  }
  // Placed before anything is created; a dry run places without recording.
  auto placement = place_scope(notify, request.hosts, lab, request.scope, request.options.force);
  if (!placement) {
    return placement.error();
  }
  checked.placement = *placement;
  // Nothing is written before every host is checked: the identity is read here, and claimed
  // (with the state directory made) only once `up` is going to change the hosts.
  auto identity = read_identity(lab, request.options.adopt);
  if (!identity) {
    return identity.error();
  }
  lab.identity = *identity;
  HostChoice placed = request.hosts;
  placed.placement = *placement;
  auto by_host = teams_by_host(placed, lab, request.scope);
  if (!by_host) {
    return by_host.error();
  }
  checked.by_host = std::move(*by_host);
  // libvirt's test driver boots no guest: nothing would pull through a registry.
  checked.pulls =
      std::any_of(checked.by_host.begin(), checked.by_host.end(),
                  [](const HostTeams& host) { return host.uri.rfind("test:", 0) != 0; });
  if (checked.pulls) {
    if (auto st = check_registry_for_up(lab, request.scope, checked.standin); !st) {
      return st.error();
    }
  }
  return checked;
}

plan::Scope scope_of_hosts(const model::Lab& lab, const std::vector<HostWork>& hosts, bool all) {
  std::vector<const model::Team*> teams;
  for (const HostWork& work : hosts) {
    teams.insert(teams.end(), work.teams.begin(), work.teams.end());
  }
  return scope_of_teams(lab, teams, all);
}

Result<UpResult> run_up(Session& session, const Notify& notify, const UpRequest& request,
                        const UpChecked& checked, const std::function<sys::Reporter&()>& reporter) {
  auto hosts = session.prepare_up(checked.by_host, request.all);
  if (!hosts) {
    return hosts.error();
  }
  if (auto st = session.open_classroom(); !st) {
    return st.error();
  }
  const model::Lab& lab = session.lab();
  if (auto st = record_up(**session.state(), lab, request, checked); !st) {
    return st.error();
  }
  // Before any VM exists: their Docker pulls through it from the first boot.
  if (checked.pulls) {
    start_registry_for_up(notify, lab, request.scope, checked.standin);
  }
  sys::Reporter& progress = reporter();
  session.report_to(progress);
  // The classroom registry fetches each image once, on the host, while the VMs boot.
  std::future<void> filled = std::async(std::launch::async, [&] {
    fill_for_up(lab, scope_of_hosts(lab, *hosts, request.all), checked.standin, progress);
  });
  UpResult done = session.converge(*hosts);
  filled.wait();
  progress.finish();
  return done;
}

}  // namespace labctl::converge
