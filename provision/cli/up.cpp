#include "provision/converge/up.hpp"
#include "provision/cli/converge.hpp"

namespace labctl::cli {

namespace {

struct UpArgs {
  std::vector<std::string> teams;
  bool all = false;
  ConvergeOptions options;
};

Status up_in_scope(const GlobalOptions& global, const UpArgs& args, model::Lab& lab,
                   const plan::Scope& scope) {
  const converge::UpRequest request{scope,
                                    args.all,
                                    args.options.standin,
                                    args.options.dry_run,
                                    hosts_of(global),
                                    session_options(args.options)};
  auto checked = converge::check_up(notifier(global), lab, request);
  if (!checked) {
    return checked.error();
  }
  if (args.options.dry_run) {
    return plan_hosts(global, lab, *checked, args.all, args.options, "dry run failed:");
  }
  converge::Session session(lab, request.options);
  std::unique_ptr<sys::Reporter> reporter;
  auto done =
      converge::run_up(session, notifier(global), request, *checked, [&]() -> sys::Reporter& {
        install_stop_handlers();
        reporter = reporter_for(global);
        return *reporter;
      });
  if (!done) {
    return done.error();
  }
  Status summary = done->results.empty() ? Status() : summarize(global, done->results);
  if (!done->failures.empty()) {
    return Error::failure("up failed:" + done->failures +
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
  if (args.options.dry_run) {
    return up_in_scope(global, args, *lab, *scope);  // a dry run takes no lock
  }
  // The checks read the state that the run writes: one lock over both.
  auto lock = lock_classroom(global, *lab, "labctl up " + scope_words(args.teams, args.all));
  if (!lock) {
    return lock.error();
  }
  Status done = up_in_scope(global, args, *lab, *scope);
  // Refused before anything was written: no state directory, as before the lock made one.
  if (auto state = sys::StateDir::open_read_only(lab->classroom); state) {
    state->forget_if_lock_only();
  }
  return done;
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
