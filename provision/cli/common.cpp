#include "provision/cli/common.hpp"

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "hypervisors/limits.hpp"
#include "provision/model/loader.hpp"
#include "provision/sys/printable.hpp"

namespace labctl::cli {

namespace {
std::atomic<bool> g_stop{false};
extern "C" void on_stop_signal(int) {
  g_stop.store(true);
}
}  // namespace

Result<std::string> lab_file_path(const GlobalOptions& global) {
  if (!global.file.empty()) {
    return global.file;
  }
  if (const char* env = std::getenv("LABCTL_FILE"); env != nullptr && *env != '\0') {
    return std::string(env);
  }
  if (std::filesystem::exists("labctl.yaml")) {
    return std::string("labctl.yaml");
  }
  return Error::usage("no lab file: give -f FILE, set LABCTL_FILE, or create ./labctl.yaml");
}

Result<model::Lab> load(const GlobalOptions& global) {
  auto path = lab_file_path(global);
  if (!path) {
    return path.error();
  }
  return model::load_lab(*path, hv::backends());
}

converge::HostChoice hosts_of(const GlobalOptions& global) {
  return {global.connect, global.placement};
}

Result<plan::Scope> scope_of(const model::Lab& lab, const std::vector<std::string>& teams,
                             bool all) {
  if (all == !teams.empty()) {
    return Error::usage("name one or more teams, or give --all");
  }
  for (const std::string& name : teams) {
    if (lab.find_team(name) == nullptr) {
      std::string known;
      for (const model::Team& team : lab.teams) {
        known += (known.empty() ? "" : ", ") + team.name;
      }
      return Error::usage(fmt::format("{}: no team '{}' (teams: {})", lab.file, name, known));
    }
  }
  return plan::Scope{teams, all};
}

Result<std::pair<model::Lab, const model::Vm*>> find_vm(const GlobalOptions& global,
                                                        const std::string& team,
                                                        const std::string& key) {
  auto lab = load(global);
  if (!lab) {
    return lab.error();
  }
  if (auto scope = scope_of(*lab, {team}, false); !scope) {
    return scope.error();
  }
  std::string known;
  for (const model::Vm& vm : lab->find_team(team)->vms) {
    if (vm.key == key) {
      // The pointer stays valid: the Lab is moved into the pair, and vectors keep their buffers.
      const model::Vm* found = &vm;
      return std::pair{std::move(*lab), found};
    }
    known += (known.empty() ? "" : ", ") + vm.key;
  }
  return Error::usage(
      fmt::format("{}: team {} has no VM '{}' (VMs: {})", lab->file, team, key, known));
}

std::unique_ptr<sys::Reporter> reporter_for(const GlobalOptions& global) {
  if (global.quiet) {
    return sys::make_reporter(sys::ReportStyle::quiet);
  }
  return sys::make_reporter(global.json ? sys::ReportStyle::json : sys::ReportStyle::automatic);
}

void notice(const GlobalOptions& global, const std::string& level, const std::string& text) {
  if (global.json) {
    sys::make_reporter(sys::ReportStyle::json)
        ->report({"", "", level, sys::EventState::info, text});
  } else {
    fmt::print(stderr, "labctl: {}: {}\n", level, text);
  }
}

converge::Notify notifier(const GlobalOptions& global) {
  return
      [global](const std::string& level, const std::string& text) { notice(global, level, text); };
}

const std::atomic<bool>& stop_flag() {
  return g_stop;
}

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
}

Result<sys::ClassroomLock> lock_classroom(const GlobalOptions& global, const model::Lab& lab,
                                          const std::string& command_line) {
  auto root = sys::default_state_root();
  if (!root) {
    return root.error();
  }
  // Ctrl-C ends the wait; the signals get their default back afterwards, for the command's
  // checks, until the command installs the handlers for its own long work.
  bool waited = false;
  auto waiting = [&](const sys::LockHolder& holder) {
    notice(global, "note", "waiting for the classroom lock: " + holder.text());
    install_stop_handlers();
    waited = true;
  };
  auto lock = sys::ClassroomLock::acquire(
      *root / lab.classroom, command_line,
      global.no_wait_lock ? sys::LockWait::fail : sys::LockWait::wait, waiting, &g_stop);
  if (waited) {
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
  }
  return lock;
}

std::string scope_words(const std::vector<std::string>& teams, bool all) {
  return all ? "--all" : fmt::format("{}", fmt::join(teams, " "));
}

void print_table(const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& cells) {
  // Cells hold names and errors from input: escaped before their widths are measured.
  std::vector<std::vector<std::string>> rows = cells;
  for (auto& row : rows) {
    std::transform(row.begin(), row.end(), row.begin(),
                   [](const std::string& cell) { return sys::printable(cell); });
  }
  std::vector<std::size_t> width(header.size());
  for (std::size_t c = 0; c < header.size(); ++c) {
    width[c] = header[c].size();
    for (const auto& row : rows) {
      width[c] = std::max(width[c], c < row.size() ? row[c].size() : 0);
    }
  }
  auto print_row = [&](const std::vector<std::string>& row) {
    std::string line;
    for (std::size_t c = 0; c < header.size(); ++c) {
      const std::string cell = c < row.size() ? row[c] : "";
      line += c + 1 == header.size() ? cell : fmt::format("{:<{}}  ", cell, width[c]);
    }
    while (!line.empty() && line.back() == ' ') {
      line.pop_back();
    }
    fmt::print("{}\n", line);
  };
  print_row(header);
  for (const auto& row : rows) {
    print_row(row);
  }
}

}  // namespace labctl::cli
