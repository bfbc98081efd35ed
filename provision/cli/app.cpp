#include "provision/cli/app.hpp"

#include <CLI/CLI.hpp>

namespace labctl::cli {

int run(int argc, char** argv) {
  CLI::App app{"labctl: build and tear down classroom labs"};
  app.set_version_flag("--version", LABCTL_VERSION);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  return 0;
}

}  // namespace labctl::cli
