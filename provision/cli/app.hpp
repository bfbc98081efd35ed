#pragma once

namespace labctl::cli {

// Parses the command line, runs the subcommand and maps its Error to an exit code:
// 0 ok, 1 operation failed, 2 bad usage or bad lab file. The only place that does so.
int run(int argc, char** argv);

}  // namespace labctl::cli
