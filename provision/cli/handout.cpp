// `labctl handout TEAM...|--all`: the sheet handed to each team (handout_render.hpp).

#include <optional>

#include <fmt/format.h>

#include "provision/cli/common.hpp"
#include "provision/converge/handout_render.hpp"
#include "provision/converge/handout_write.hpp"

namespace labctl::cli {

namespace {

using converge::HandoutFormat;

struct HandoutArgs {
  std::vector<std::string> teams;
  bool all = false;
  std::string format = "md";
  bool with_secrets = false;
  std::string out;  // a directory: each team's files in <out>/<classroom>-<team>[.tar.gz]
  bool archive = false;
};

// Each team's files, beside the sheet, under args.out; the written paths on stdout.
Status write_teams(const GlobalOptions& global, const model::Lab& lab,
                   const converge::PreparedHandout& prepared, HandoutFormat format,
                   const HandoutArgs& args) {
  auto written = converge::write_team_handouts(lab, prepared, format, args.out, args.archive);
  if (!written) {
    return written.error();
  }
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const converge::WrittenHandout& team : *written) {
    list.push_back({{"team", team.team}, {"path", team.path.string()}});
    if (!global.json) {
      fmt::print("{}\n", team.path.string());
    }
  }
  if (global.json) {
    global.output->document = {{"written", list}};
  }
  return {};
}

Status run_handout(const GlobalOptions& global, const HandoutArgs& args) {
  auto lab = load(global);
  if (!lab) {
    return lab.error();
  }
  auto scope = scope_of(*lab, args.teams, args.all);
  // --with-secrets and --out may make the passwords and keys `up` will use: a writer.
  std::optional<sys::ClassroomLock> lock;
  if (scope && (args.with_secrets || !args.out.empty())) {
    auto taken = lock_classroom(global, *lab,
                                "labctl handout " + scope_words(args.teams, args.all) +
                                    (args.out.empty() ? " --with-secrets" : " --out"));
    if (!taken) {
      return taken.error();
    }
    lock.emplace(std::move(*taken));
  }
  auto prepared =
      scope ? converge::prepare_handout(*lab, *scope, args.with_secrets, !args.out.empty())
            : Result<converge::PreparedHandout>(scope.error());
  if (!prepared) {
    return prepared.error();
  }
  const HandoutFormat format = global.json || args.format == "json" ? HandoutFormat::json
                               : args.format == "html"              ? HandoutFormat::html
                                                                    : HandoutFormat::markdown;
  if (!args.out.empty()) {
    return write_teams(global, *lab, *prepared, format, args);
  }
  const std::string sheet = converge::render_handout(prepared->handout, format);
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
