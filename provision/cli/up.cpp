#include <algorithm>
#include <chrono>
#include <future>

#include <fmt/format.h>

#include "provision/apply/guest.hpp"
#include "provision/cli/converge.hpp"
#include "provision/cli/identity.hpp"
#include "provision/cli/images.hpp"
#include "provision/cli/registry.hpp"
#include "provision/cli/standin.hpp"
#include "provision/cli/versions.hpp"
#include "provision/sys/host_ports.hpp"

namespace labctl::cli {

namespace {

struct UpArgs {
  std::vector<std::string> teams;
  bool all = false;
  ConvergeOptions options;
};

// One host's share of `up`, checked before anything on any host changes.
struct HostWork {
  std::string uri;
  std::vector<const model::Team*> teams;
  std::unique_ptr<hv::Hypervisor> hypervisor;
  hv::Inventory inventory;
  plan::Plan plan;
};

plan::Scope scope_of_host(const model::Lab& lab, const std::vector<const model::Team*>& teams,
                          const UpArgs& args) {
  plan::Scope scope;
  for (const model::Team* team : teams) {
    scope.teams.push_back(team->name);
  }
  scope.all = args.all && teams.size() == lab.teams.size();
  return scope;
}

// Connects, plans and makes every check; changes nothing.
Result<HostWork> prepare_host(const model::Lab& lab, const std::string& uri,
                              const std::vector<const model::Team*>& teams, const UpArgs& args) {
  HostWork work{uri, teams, nullptr, {}, {}};
  auto hypervisor = connect(uri);
  if (!hypervisor) {
    return hypervisor.error();
  }
  work.hypervisor = std::move(*hypervisor);
  auto inventory = work.hypervisor->inventory(lab.classroom);
  if (!inventory) {
    return inventory.error();
  }
  work.inventory = std::move(*inventory);
  work.plan = plan::plan_up(lab, work.inventory, scope_of_host(lab, teams, args));
  if (auto st =
          check_host(lab, teams, *work.hypervisor, work.inventory, work.plan, uri, args.options);
      !st) {
    return st.error();
  }
  return work;
}

Status write_known_hosts(const sys::StateDir& state, const std::vector<const model::Vm*>& vms) {
  std::vector<sys::KnownHost> known;
  for (const model::Vm* vm : vms) {
    for (const model::Nic& nic : vm->nics) {
      if (!nic.ip.empty()) {
        known.push_back({nic.ip, vm->name});
      }
    }
  }
  return state.write_known_hosts(known);
}

Status converge_host(const GlobalOptions& global, const model::Lab& lab, const sys::StateDir& state,
                     HostWork& work, const UpArgs& args, sys::Reporter& reporter,
                     std::vector<ready::VmReadiness>& results) {
  hv::Hypervisor& hypervisor = *work.hypervisor;
  if (auto st =
          args.options.adopt ? adopt_objects(lab, hypervisor, work.inventory, reporter) : Status();
      !st) {
    return st;
  }
  reporter.report({"", "", "host " + work.uri, sys::EventState::info,
                   fmt::format("{} actions; accelerator {}", work.plan.actions.size(),
                               choose_accelerator(lab, hypervisor.capabilities()))});
  if (auto st = apply_plan(global, lab, state, hypervisor, work.plan, args.options, reporter);
      !st) {
    return st;
  }
  std::vector<const model::Vm*> vms;
  for (const model::Team* team : work.teams) {
    for (const model::Vm& vm : team->vms) {
      vms.push_back(&vm);
    }
  }
  if (auto st = write_known_hosts(state, vms); !st) {
    return st;
  }
  if (!args.options.no_wait) {
    std::vector<ready::VmReadiness> host_results;
    bring_up_guests(global, lab, state, hypervisor, vms, args.options, reporter, host_results);
    results.insert(results.end(), host_results.begin(), host_results.end());
  }
  return {};
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

// Every host is checked before any is changed: a conflict on the second host must not leave
// the first one half converged.
Result<std::vector<HostWork>> prepare_hosts(const GlobalOptions& placed, const model::Lab& lab,
                                            const plan::Scope& scope, const UpArgs& args) {
  std::vector<HostWork> hosts;
  std::string failures;
  for (const auto& [uri, teams] : teams_by_host(placed, lab, scope)) {
    auto work = prepare_host(lab, uri, teams, args);
    if (!work) {
      failures += "\n  " + work.error().message;  // each check's message names the host
    } else {
      hosts.push_back(std::move(*work));
    }
  }
  if (!failures.empty()) {
    return Error::failure("up refused, nothing was changed:" + failures);
  }
  return hosts;
}

plan::Scope scope_of_hosts(const model::Lab& lab, const std::vector<HostWork>& hosts,
                           const UpArgs& args) {
  std::vector<const model::Team*> teams;
  for (const HostWork& work : hosts) {
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
                      const sys::StateDir& state, std::vector<HostWork>& hosts, const UpArgs& args,
                      bool standin) {
  install_stop_handlers();
  auto reporter = reporter_for(global);
  // The classroom registry fetches each image once, on the host, while the VMs boot.
  std::future<void> filled = std::async(std::launch::async, [&] {
    fill_for_up(lab, scope_of_hosts(lab, hosts, args), standin, *reporter);
  });
  std::vector<ready::VmReadiness> results;
  std::string failures;
  for (HostWork& work : hosts) {
    if (auto st = converge_host(global, lab, state, work, args, *reporter, results); !st) {
      failures += fmt::format("\n  {}: {}", work.uri, st.error().message);
    }
  }
  filled.wait();
  reporter->finish();
  Status summary = results.empty() ? Status() : summarize(global, results);
  if (!failures.empty()) {
    return Error::failure("up failed:" + failures +
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
  auto identity = read_identity(*lab, args.options.adopt);
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
  const bool pulls = std::any_of(by_host.begin(), by_host.end(), [](const auto& host) {
    return host.first.rfind("test:", 0) != 0;
  });
  if (auto st = pulls ? check_registry_for_up(*lab, *scope, standin) : Status(); !st) {
    return st;
  }
  if (args.options.dry_run) {
    return dry_run(global, placed, *lab, *scope, args);
  }
  auto hosts = prepare_hosts(placed, *lab, *scope, args);
  if (!hosts) {
    return hosts.error();
  }
  auto state = sys::StateDir::open(lab->classroom);
  if (!state) {
    return state.error();
  }
  // The same identity as read (or, for a classroom's first `up`, a new one: no object can
  // carry it yet, so the checks above hold for it).
  identity = claim_identity(*lab, *state, args.options.adopt);
  if (!identity) {
    return identity.error();
  }
  lab->identity = *identity;
  if (args.options.standin) {
    if (auto st = state->update_state([](nlohmann::json& s) { s["standin"] = true; }); !st) {
      return st;
    }
  }
  if (auto st = record_placement(*state, *placement); !st) {
    return st;
  }
  // Other classrooms' `plan` keep their ports apart from this range.
  if (auto st = state->update_state([&](nlohmann::json& s) {
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
  return converge_hosts(global, *lab, *state, *hosts, args, standin);
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
