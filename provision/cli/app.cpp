#include "provision/cli/app.hpp"

#include <algorithm>
#include <csignal>

#include <fmt/format.h>

#include "provision/cli/common.hpp"
#include "provision/cli/output.hpp"
#include "provision/sys/printable.hpp"

namespace labctl::cli {

namespace {

constexpr const char* k_examples = R"(Examples:
  labctl validate labs/classroom.yaml
  labctl -f labs/classroom.yaml show team3 --json
  labctl -f labs/classroom.yaml plan team3
  labctl -f labs/classroom.yaml up team3
  labctl -f labs/classroom.yaml status
  labctl -f labs/classroom.yaml squash add team3 vm2 --version 6.0.0
  labctl -f labs/classroom.yaml squash ls team3
  labctl -f labs/classroom.yaml squash upgrade team3 vm2 v6-0-0 --version 6.1.0
  labctl -f labs/classroom.yaml squash rm team3 vm2 v6-0-0
  labctl -f labs/classroom.yaml handout --all --format html > handout.html
  labctl -f labs/classroom.yaml down --all --yes
  labctl registry status

The lab file is -f FILE, else $LABCTL_FILE, else ./labctl.yaml.
Exit codes: 0 ok, 1 operation failed, 2 bad usage or bad lab file.)";

// A command line CLI11 refused, or --help/--version: the exit code, after saying why (one
// JSON document under --json). A word that is no command leaves none parsed, and CLI11 would
// only say that one is required: the word is named.
int parse_failure(CLI::App& app, const CLI::ParseError& e, int argc, char** argv) {
  const std::vector<std::string> words = app.remaining();
  const auto word = std::find_if(words.begin(), words.end(),
                                 [](const std::string& w) { return !w.starts_with('-'); });
  if (e.get_exit_code() != 0 && app.get_subcommands().empty() && word != words.end()) {
    const Error unknown =
        Error::usage(fmt::format("unknown command '{}' (see labctl --help)", *word));
    if (json_requested(argc, argv)) {
      return print_json_outcome(Status(unknown), {});
    }
    fmt::print(stderr, "labctl: {}\n", sys::printable(unknown.message));
    return 2;
  }
  if (json_requested(argc, argv)) {
    return print_json_parse_outcome(app, e);
  }
  return app.exit(e) == 0 ? 0 : 2;
}

}  // namespace

int run(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"labctl: build and tear down classroom labs"};
  app.footer(k_examples);
  app.set_version_flag("--version", LABCTL_VERSION);
  app.require_subcommand(1);
  app.fallthrough();  // global options may follow the subcommand
  GlobalOptions global;
  app.add_option("-f,--file", global.file, "Lab file");
  app.add_option("--connect", global.connect,
                 "Host URI (qemu:///system, test:///default, hyperv://)");
  app.add_flag("--json", global.json,
               "Machine-readable output (JSON on stdout, JSON events on stderr)");
  app.add_flag("-q,--quiet", global.quiet, "No progress output");
  app.add_flag("--no-wait-lock", global.no_wait_lock,
               "When another labctl changes the classroom: fail, naming it, instead of waiting");
  Command command;
  Registry registry{app, global, command};
  for (auto add :
       {add_validate, add_show, add_plan, add_up, add_status, add_down, add_reset, add_ssh,
        add_image, add_images, add_squash, add_handout, add_registry, add_serve}) {
    add(registry);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return parse_failure(app, e, argc, argv);
  }
  const Status status = command ? command() : Status(Error::usage("no command"));
  if (global.json) {
    return print_json_outcome(status, *global.output);
  }
  if (!status) {
    fmt::print(stderr, "labctl: {}\n", sys::printable_message(status.error().message));
    return status.error().exit_code();
  }
  return 0;
}

}  // namespace labctl::cli
