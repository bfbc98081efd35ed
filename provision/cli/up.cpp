#include <algorithm>
#include <chrono>
#include <future>

#include <fmt/format.h>

#include "provision/cli/converge.hpp"
#include "provision/cli/images.hpp"
#include "provision/cli/registry.hpp"
#include "provision/cli/standin.hpp"
#include "provision/cli/versions.hpp"
#include "provision/converge/identity.hpp"
#include "provision/sys/host_ports.hpp"

namespace labctl::cli {

namespace {

struct UpArgs {
  std::vector<std::string> teams;
  bool all = false;
  ConvergeOptions options;
};

plan::Scope scope_of_host(const model::Lab& lab, const std::vector<const model::Team*>& teams,
                          const UpArgs& args) {
  return converge::scope_of_teams(lab, teams, args.all);
}

Status dry_run(const GlobalOptions& global, const GlobalOptions& placed, const model::Lab& lab,
               const plan::Scope& scope, const UpArgs& args) {
  std::string failures;
  for (const auto& [uri, teams] : teams_by_host(placed, lab, scope)) {
    if (auto st = plan_host(global, lab, uri, scope_of_host(lab, teams, args), args.options); !st) {
      failures += "\n  " + st.error().message;  // each check's message names the host
    }
  }
  return failures.empty() ? Status() : Error::failure("dry run failed:" + failures);
}

plan::Scope scope_of_hosts(const model::Lab& lab, const std::vector<converge::HostWork>& hosts,
                           const UpArgs& args) {
  std::vector<const model::Team*> teams;
  for (const converge::HostWork& work : hosts) {
    teams.insert(teams.end(), work.teams.begin(), work.teams.end());
  }
  return scope_of_host(lab, teams, args);
}

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

Status converge_hosts(const GlobalOptions& global, const model::Lab& lab,
                      converge::Session& session, std::vector<converge::HostWork>& hosts,
                      const UpArgs& args, bool standin) {
  install_stop_handlers();
  auto reporter = reporter_for(global);
  session.report_to(*reporter);
  // The classroom registry fetches each image once, on the host, while the VMs boot.
  std::future<void> filled = std::async(std::launch::async, [&] {
    fill_for_up(lab, scope_of_hosts(lab, hosts, args), standin, *reporter);
  });
  const converge::UpResult done = session.converge(hosts);
  filled.wait();
  reporter->finish();
  Status summary = done.results.empty() ? Status() : summarize(global, done.results);
  if (!done.failures.empty()) {
    return Error::failure("up failed:" + done.failures +
                          (summary ? "" : "\n  " + summary.error().message));
  }
  return summary;
}

Status run_up(const GlobalOptions& global, const UpArgs& args) {
  auto lab = load(global);
  if (!lab) {
    return lab.error();
  }
  auto scope = scope_of(*lab, args.teams, args.all);
  if (!scope) {
    return scope.error();
  }
  // A stand-in classroom (this flag, or an earlier `up --standin`) caches the host's
  // stand-in registry: its images are built first, so that their versions resolve.
  const bool standin = args.options.standin || classroom_is_standin(lab->classroom);
  if (standin && !args.options.dry_run) {
    if (auto st = ensure_lab_standins(global, *lab, *scope); !st) {
      return st;
    }
  }
  if (auto st = check_versions(global, *lab, *scope, standin); !st) {
    return st;
  }
  // Nothing is written before every host is checked: the identity is read here, and claimed
  // (with the state directory made) only once `up` is going to change the hosts.
  auto identity = converge::read_identity(*lab, args.options.adopt);
  if (!identity) {
    return identity.error();
  }
  lab->identity = *identity;
  // Placed before anything is created; a dry run places without recording.
  auto placement = place_scope(global, *lab, *scope, args.options.force);
  if (!placement) {
    return placement.error();
  }
  GlobalOptions placed = global;
  placed.placement = *placement;
  // libvirt's test driver boots no guest: nothing would pull through a registry.
  const auto by_host = teams_by_host(placed, *lab, *scope);
  const bool pulls = std::any_of(by_host.begin(), by_host.end(),
                                 [](const auto& host) { return host.uri.rfind("test:", 0) != 0; });
  if (auto st = pulls ? check_registry_for_up(*lab, *scope, standin) : Status(); !st) {
    return st;
  }
  if (args.options.dry_run) {
    return dry_run(global, placed, *lab, *scope, args);
  }
  converge::Session session(*lab, session_options(args.options));
  auto hosts = session.prepare_up(by_host, args.all);
  if (!hosts) {
    return hosts.error();
  }
  if (auto st = session.open_classroom(); !st) {
    return st;
  }
  const sys::StateDir& state = **session.state();  // open_classroom opened it
  if (args.options.standin) {
    if (auto st = state.update_state([](nlohmann::json& s) { s["standin"] = true; }); !st) {
      return st;
    }
  }
  if (auto st = record_placement(state, *placement); !st) {
    return st;
  }
  // Other classrooms' `plan` keep their ports apart from this range.
  if (auto st = state.update_state([&](nlohmann::json& s) {
        if (lab->access.enabled) {
          s["access"] = sys::access_record(lab->access);
        } else {
          s.erase("access");
        }
      });
      !st) {
    return st;
  }
  // Before any VM exists: their Docker pulls through it from the first boot.
  if (pulls) {
    start_registry_for_up(global, *lab, *scope, standin);
  }
  return converge_hosts(global, *lab, session, *hosts, args, standin);
}

}  // namespace

void add_up(Registry r) {
  auto* sub = r.app.add_subcommand(
      "up", "Converge teams: networks, disks, seeds, VMs, then wait for Docker and the stack");
  auto args = std::make_shared<UpArgs>();
  sub->add_option("TEAM", args->teams, "Teams to bring up");
  sub->add_flag("--all", args->all, "Every team of the classroom");
  sub->add_flag("--dry-run", args->options.dry_run,
                "Print the plan (and, for Hyper-V, the PowerShell) without changing anything");
  sub->add_flag("--force", args->options.force,
                "Overcommit: place and start teams even where their memory does not fit");
  sub->add_flag("--no-wait", args->options.no_wait, "Do not wait for the guests to be ready");
  sub->add_flag("--adopt", args->options.adopt,
                "Take over the classroom's objects on the hosts that carry another identity "
                "(another lab file with this classroom name, or labctl before identities)");
  sub->add_flag("--standin", args->options.standin,
                "No Docker Hub here: stand-in images (not Squash TM) built on this host, "
                "cached by the classroom registry");
  sub->add_option("-j,--jobs", args->options.jobs, "Parallel actions (default: cores)");
  sub->callback([r, args] { r.command = [r, args] { return run_up(r.global, *args); }; });
}

}  // namespace labctl::cli
