// `labctl handout TEAM...|--all`: the sheet handed to each team (handout_render.hpp).

#include <fmt/format.h>

#include "provision/apply/guest.hpp"
#include "provision/cli/common.hpp"
#include "provision/cli/handout_render.hpp"
#include "provision/sys/state.hpp"

namespace labctl::cli {

namespace {

struct HandoutArgs {
  std::vector<std::string> teams;
  bool all = false;
  std::string format = "md";
  bool with_secrets = false;
};

// Every covered VM's DB passwords, as `up` made them (made now if `up` has not run yet).
Result<std::map<std::string, squashtm::Secrets>> secrets_of(const model::Lab& lab,
                                                            const sys::StateDir& state,
                                                            const nlohmann::json& current,
                                                            const plan::Scope& scope) {
  std::map<std::string, squashtm::Secrets> out;
  for (const model::Team& team : lab.teams) {
    if (!scope.covers(team.name)) {
      continue;
    }
    for (const model::Vm& vm : team.vms) {
      auto secrets = apply::stack_secrets(state, vm, apply::effective_instances(vm, current));
      if (!secrets) {
        return secrets.error();
      }
      out[vm.name] = *secrets;
    }
  }
  return out;
}

Status run_handout(const GlobalOptions& global, const HandoutArgs& args) {
  auto lab = load(global);
  if (!lab) {
    return lab.error();
  }
  auto scope = scope_of(*lab, args.teams, args.all);
  // Only --with-secrets writes: the passwords `up` will use are made now if need be.
  auto state = !scope              ? Result<sys::StateDir>(scope.error())
               : args.with_secrets ? sys::StateDir::open(lab->classroom)
                                   : sys::StateDir::open_read_only(lab->classroom);
  auto current = state ? state->read_state() : Result<nlohmann::json>(state.error());
  if (!current) {
    return current.error();
  }
  HandoutInputs inputs{
      {}, *current, state->private_key_path().string(), state->known_hosts_path().string()};
  for (const model::Team& team : lab->teams) {
    if (scope->covers(team.name)) {
      inputs.teams.push_back(team.name);
    }
  }
  if (args.with_secrets) {
    auto secrets = secrets_of(*lab, *state, *current, *scope);
    if (!secrets) {
      return secrets.error();
    }
    inputs.secrets = *secrets;
  }
  const HandoutFormat format = global.json || args.format == "json" ? HandoutFormat::json
                               : args.format == "html"              ? HandoutFormat::html
                                                                    : HandoutFormat::markdown;
  const std::string sheet = render_handout(handout_of(*lab, inputs), format);
  if (global.json) {
    global.output->document = nlohmann::ordered_json::parse(sheet);
  } else {
    fmt::print("{}", sheet);
  }
  return {};
}

}  // namespace

void add_handout(Registry r) {
  auto* sub = r.app.add_subcommand(
      "handout", "Each team's sheet: VM addresses, SSH commands, Squash TM URLs and login");
  auto args = std::make_shared<HandoutArgs>();
  sub->add_option("TEAM", args->teams, "Teams");
  sub->add_flag("--all", args->all, "Every team");
  sub->add_option("--format", args->format, "md (default), html or json")
      ->check(CLI::IsMember({"md", "html", "json"}));
  sub->add_flag("--with-secrets", args->with_secrets, "Include the DB passwords");
  sub->callback([r, args] { r.command = [r, args] { return run_handout(r.global, *args); }; });
}

}  // namespace labctl::cli
