#include <unistd.h>

#include <algorithm>
#include <iostream>

#include <fmt/format.h>

#include "provision/cli/converge.hpp"
#include "provision/converge/classroom_registry.hpp"

namespace labctl::cli {

namespace {

struct DownArgs {
  std::vector<std::string> teams;
  bool all = false;
  bool yes = false;
  bool purge = false;  // --all: the database dumps go too
  bool adopt = false;  // also the classroom's objects of another identity
};

// Asked on a terminal only, and never under --json (stderr holds JSON lines then).
bool confirmed(const GlobalOptions& global, std::size_t count, bool yes) {
  if (yes) {
    return true;
  }
  if (global.json || ::isatty(0) == 0) {
    return false;
  }
  fmt::print(stderr, "Delete these {} objects and paths? [y/N] ", count);
  std::string answer;
  std::getline(std::cin, answer);
  return answer == "y" || answer == "Y" || answer == "yes";
}

void print_state_removal(const GlobalOptions& global, const sys::StateDir& state,
                         const sys::Removal& removal) {
  if (global.json) {
    nlohmann::ordered_json& doc = global.output->document["state"];
    doc = {{"dir", state.dir().string()}, {"delete", nlohmann::ordered_json::array()}};
    for (const auto& path : removal.remove) {
      doc["delete"].push_back(path.string());
    }
    doc["keep"] = nlohmann::ordered_json::array();
    for (const auto& path : removal.keep) {
      doc["keep"].push_back(path.string());
    }
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& path : removal.remove) {
    rows.push_back({"delete", "state", path.string()});
  }
  for (const auto& path : removal.keep) {
    rows.push_back({"keep", "dump", path.string()});
  }
  if (!rows.empty()) {
    fmt::print("\nstate directory {}:\n", state.dir().string());
    print_table({"ACTION", "KIND", "PATH"}, rows);
  }
  if (!removal.keep.empty()) {
    fmt::print("\nDatabase dumps are kept in {} (--purge deletes them).\n",
               state.dumps_dir().string());
  }
}

// The refused hosts' plans first (with their conflicts), then what goes.
void print_down(const GlobalOptions& global, const model::Lab& lab, const sys::StateDir& state,
                const converge::DownPlan& down, bool adopt) {
  for (const converge::HostDown& host : down.refused_hosts) {
    print_plan(global, host.uri, host.plan, adopt);
  }
  for (const converge::HostDown& host : down.hosts) {
    if (host.plan.empty() && !global.json) {
      fmt::print("{}: nothing of classroom {} to delete.\n", host.uri, lab.classroom);
    } else {
      print_plan(global, host.uri, host.plan, adopt);
    }
  }
  print_state_removal(global, state, down.state);
}

Status down_locked(const GlobalOptions& global, const DownArgs& args, model::Lab& lab,
                   const plan::Scope& scope, const sys::StateDir& state) {
  converge::Session session(lab, {.adopt = args.adopt, .stop = &stop_flag()});
  session.use_state(state);
  auto planned = session.prepare_down(hosts_of(global), scope, args.all, args.purge);
  if (!planned) {
    return planned.error();
  }
  const converge::DownPlan& down = *planned;
  print_down(global, lab, state, down, args.adopt);
  // A refusal on one host stops the whole down, before anything goes on any host.
  if (!down.refused.empty()) {
    return Error::failure("down refused, nothing deleted:" + down.refused);
  }
  if (down.size() > 0 && !confirmed(global, down.size(), args.yes)) {
    return Error::usage(
        "not confirmed: nothing deleted (give --yes when not on a terminal or with --json)");
  }
  install_stop_handlers();
  auto reporter = reporter_for(global);
  session.report_to(*reporter);
  Status deleted = session.down(down, args.all);
  reporter->finish();
  if (!deleted) {
    return deleted;
  }
  if (args.all) {
    converge::release_registry(notifier(global), lab);
  }
  return {};
}

Status run_down(const GlobalOptions& global, const DownArgs& args) {
  auto lab = load(global);
  if (!lab) {
    return lab.error();
  }
  auto scope = scope_of(*lab, args.teams, args.all);
  if (!scope) {
    return scope.error();
  }
  if (args.purge && !args.all) {
    return Error::usage("--purge goes with --all (the state directory is removed only then)");
  }
  // Held from the identity's reading to the state directory's removal (its own file goes
  // last, sys/state.hpp).
  auto lock = lock_classroom(global, *lab, "labctl down " + scope_words(args.teams, args.all));
  if (!lock) {
    return lock.error();
  }
  auto state = converge::down_state_dir(lab->classroom);
  if (!state) {
    return state.error();
  }
  Status done = down_locked(global, args, *lab, *scope, *state);
  state->forget_if_lock_only();  // down creates nothing
  return done;
}

}  // namespace

void add_down(Registry r) {
  auto* sub = r.app.add_subcommand(
      "down", "Delete what labctl created for teams (tagged objects only), after asking");
  auto args = std::make_shared<DownArgs>();
  sub->add_option("TEAM", args->teams, "Teams to remove");
  sub->add_flag("--all", args->all,
                "The whole classroom, and its state directory last (database dumps are kept)");
  sub->add_flag("--purge", args->purge, "With --all: delete the database dumps too");
  sub->add_flag("-y,--yes", args->yes, "Do not ask");
  sub->add_flag("--adopt", args->adopt,
                "Also delete the classroom's objects that carry another identity (another lab "
                "file with this classroom name, or labctl before identities)");
  sub->callback([r, args] { r.command = [r, args] { return run_down(r.global, *args); }; });
}

}  // namespace labctl::cli
