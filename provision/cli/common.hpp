#pragma once

// What every subcommand shares: global options, finding and loading the lab file, choosing
// the host URI, the scope of teams, output helpers. Subcommands turn their flags into an
// options struct and call the core; they return a Status that app.cpp maps to an exit code.

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include "hypervisors/hypervisor.hpp"
#include "provision/cli/output.hpp"
#include "provision/converge/notify.hpp"
#include "provision/converge/placement.hpp"
#include "provision/model/lab.hpp"
#include "provision/plan/placement.hpp"
#include "provision/plan/plan.hpp"
#include "provision/sys/classroom_lock.hpp"
#include "provision/sys/reporter.hpp"
#include "provision/sys/state.hpp"

namespace labctl::cli {

struct GlobalOptions {
  std::string file;           // -f: the lab file
  std::string connect;        // --connect: the host URI
  bool json = false;          // machine-readable output
  bool quiet = false;         // no progress
  bool no_wait_lock = false;  // another writer holds the classroom lock: fail, do not wait
  // Set by a command that placed teams in this process (`up`, `plan`): wins over the record.
  plan::Placement placement;
  // Under --json the command's data goes here, not to stdout (output.hpp); shared by copies.
  std::shared_ptr<JsonOutput> output = std::make_shared<JsonOutput>();
};

// The command a subcommand registered; run after parsing.
using Command = std::function<Status()>;

struct Registry {
  CLI::App& app;
  GlobalOptions& global;
  Command& command;
};

// -f FILE, then $LABCTL_FILE, then ./labctl.yaml.
Result<std::string> lab_file_path(const GlobalOptions& global);
Result<model::Lab> load(const GlobalOptions& global);

// --connect and the placement made in this process, for the converge layer.
converge::HostChoice hosts_of(const GlobalOptions& global);

// Team names given on the command line (or --all) as a plan::Scope; unknown teams are a
// usage error that names the known ones.
Result<plan::Scope> scope_of(const model::Lab& lab, const std::vector<std::string>& teams,
                             bool all);

// Loads the lab file and finds one team's VM by its key ("vm2"); an unknown team or VM is a
// usage error that names the known ones.
Result<std::pair<model::Lab, const model::Vm*>> find_vm(const GlobalOptions& global,
                                                        const std::string& team,
                                                        const std::string& key);

std::unique_ptr<sys::Reporter> reporter_for(const GlobalOptions& global);

// A warning or note on stderr: "labctl: LEVEL: TEXT", or with --json an event line.
void notice(const GlobalOptions& global, const std::string& level, const std::string& text);

// notice() as the converge layer's Notify.
converge::Notify notifier(const GlobalOptions& global);

// Set by SIGINT/SIGTERM while a long command runs.
const std::atomic<bool>& stop_flag();
void install_stop_handlers();

// The classroom's writer lock (sys/classroom_lock.hpp), in its state directory, for a command
// that changes the classroom; held until the returned lock goes. Another holder is waited
// for, after one notice naming it (SIGINT/SIGTERM end the wait), or with --no-wait-lock is
// an error naming it. `command_line` is what the holder is shown as: "labctl up team3".
Result<sys::ClassroomLock> lock_classroom(const GlobalOptions& global, const model::Lab& lab,
                                          const std::string& command_line);

// The teams of a command line as the user gave them: "red blue", or "--all".
std::string scope_words(const std::vector<std::string>& teams, bool all);

// Prints rows as aligned columns on stdout.
void print_table(const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows);

// The plan as a table (ACTION KIND NAME REASON), its conflicts first as "conflict" rows (or
// "adopt", under --adopt, for adoptable ones); with --json one more entry
// {"host": URI, "actions": [...]} at the end of the document's "hosts".
void print_plan(const GlobalOptions& global, const std::string& uri, const plan::Plan& plan,
                bool adopt = false);

void add_validate(Registry r);
void add_show(Registry r);
void add_plan(Registry r);
void add_up(Registry r);
void add_down(Registry r);
void add_status(Registry r);
void add_reset(Registry r);
void add_ssh(Registry r);
void add_image(Registry r);
void add_images(Registry r);
void add_squash(Registry r);
void add_handout(Registry r);
void add_serve(Registry r);
void add_registry(Registry r);

}  // namespace labctl::cli
