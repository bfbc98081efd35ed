// `labctl handout TEAM...|--all`: the sheet handed to each team (handout_render.hpp).

#include <fmt/format.h>

#include "provision/cli/common.hpp"
#include "provision/converge/handout_render.hpp"
#include "provision/converge/handout_write.hpp"
#include "provision/sys/state.hpp"

namespace labctl::cli {

namespace {

using converge::Handout;
using converge::HandoutFormat;
using converge::HandoutInputs;
using converge::HandoutTeam;

struct HandoutArgs {
  std::vector<std::string> teams;
  bool all = false;
  std::string format = "md";
  bool with_secrets = false;
  std::string out;  // a directory: each team's files in <out>/<classroom>-<team>[.tar.gz]
  bool archive = false;
};

// Each team's files, beside the sheet, under args.out; the written paths on stdout.
Status write_teams(const GlobalOptions& global, const model::Lab& lab, const sys::StateDir& state,
                   const Handout& handout, HandoutFormat format, const HandoutArgs& args) {
  nlohmann::ordered_json written = nlohmann::ordered_json::array();
  for (const HandoutTeam& team : handout.teams) {
    auto secrets = converge::team_secrets(state, *lab.find_team(team.name));
    if (!secrets) {
      return secrets.error();
    }
    const auto files = converge::handout_files(handout, team, format, *secrets);
    const std::string top = lab.classroom + "-" + team.name;
    const std::filesystem::path path =
        std::filesystem::path(args.out) / (args.archive ? top + ".tar.gz" : top);
    if (auto st = args.archive ? converge::write_handout_archive(path, top, files)
                               : converge::write_handout_dir(path, files);
        !st) {
      return st;
    }
    written.push_back({{"team", team.name}, {"path", path.string()}});
    if (!global.json) {
      fmt::print("{}\n", path.string());
    }
  }
  if (global.json) {
    global.output->document = {{"written", written}};
  }
  return {};
}

Status run_handout(const GlobalOptions& global, const HandoutArgs& args) {
  auto lab = load(global);
  if (!lab) {
    return lab.error();
  }
  auto scope = scope_of(*lab, args.teams, args.all);
  // Only --with-secrets and --out write: the passwords and keys `up` will use are made now if
  // need be.
  const bool writes = args.with_secrets || !args.out.empty();
  auto state = !scope   ? Result<sys::StateDir>(scope.error())
               : writes ? sys::StateDir::open(lab->classroom)
                        : sys::StateDir::open_read_only(lab->classroom);
  auto current = state ? state->read_state() : Result<sys::ClassroomState>(state.error());
  if (!current) {
    return current.error();
  }
  HandoutInputs inputs{{}, *current, {}};
  for (const model::Team& team : lab->teams) {
    if (scope->covers(team.name)) {
      inputs.teams.push_back(team.name);
    }
  }
  if (args.with_secrets) {
    auto secrets = converge::secrets_of(*lab, *state, *current, *scope);
    if (!secrets) {
      return secrets.error();
    }
    inputs.secrets = *secrets;
  }
  const HandoutFormat format = global.json || args.format == "json" ? HandoutFormat::json
                               : args.format == "html"              ? HandoutFormat::html
                                                                    : HandoutFormat::markdown;
  const Handout handout = converge::handout_of(*lab, inputs);
  if (!args.out.empty()) {
    return write_teams(global, *lab, *state, handout, format, args);
  }
  const std::string sheet = converge::render_handout(handout, format);
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
  sub->add_option("--out", args->out,
                  "Write each team's sheet, private key, ssh_config and known_hosts in "
                  "DIR/<classroom>-<team>/");
  sub->add_flag("--archive", args->archive, "With --out: one DIR/<classroom>-<team>.tar.gz each");
  sub->callback([r, args] {
    if (args->archive && args->out.empty()) {
      r.command = [] { return Status(Error::usage("--archive goes with --out DIR")); };
      return;
    }
    r.command = [r, args] { return run_handout(r.global, *args); };
  });
}

}  // namespace labctl::cli
