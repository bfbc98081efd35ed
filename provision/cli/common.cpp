#include "provision/cli/common.hpp"

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>

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

namespace {

std::string default_uri(const model::Lab& lab) {
  if (!lab.hosts.empty()) {
    return lab.hosts.front().uri;
  }
  if (const char* env = std::getenv("LIBVIRT_DEFAULT_URI"); env != nullptr && *env != '\0') {
    return env;
  }
  return "qemu:///system";
}

bool listed(const model::Lab& lab, const std::string& uri) {
  return std::any_of(lab.hosts.begin(), lab.hosts.end(),
                     [&](const model::Host& host) { return host.uri == uri; });
}

// A listed host's facts; when it cannot be read, `up` and `plan` say so and go on.
plan::HostFacts read_host_facts(const GlobalOptions& global, const model::Lab& lab,
                                const model::Host& host) {
  auto hypervisor = connect(host.uri);
  auto info = hypervisor ? (*hypervisor)->host_info() : Result<hv::HostInfo>(hypervisor.error());
  auto inventory =
      info ? (*hypervisor)->inventory(lab.classroom) : Result<hv::Inventory>(info.error());
  plan::HostFacts facts = plan::host_facts(host, info, inventory);
  if (!facts.reachable) {
    notice(global, "warning",
           fmt::format("{}: {}; no new team is placed there", host.uri, facts.error));
  }
  return facts;
}

}  // namespace

std::string host_uri(const GlobalOptions& global, const model::Lab& lab, const model::Team* team) {
  if (!global.connect.empty()) {
    return global.connect;
  }
  if (team != nullptr && !team->host.empty()) {
    return team->host;
  }
  if (team != nullptr) {
    if (auto it = global.placement.find(team->name); it != global.placement.end()) {
      return it->second;
    }
    // An unreadable record counts as none here; `plan` and `up` refuse it (place_scope).
    auto recorded = recorded_placement(lab);
    const plan::Placement none;
    const plan::Placement& placed = recorded ? *recorded : none;
    if (auto it = placed.find(team->name); it != placed.end() && listed(lab, it->second)) {
      return it->second;
    }
  }
  return default_uri(lab);
}

Result<plan::Placement> recorded_placement(const model::Lab& lab) {
  auto state = sys::StateDir::open_read_only(lab.classroom);
  if (!state) {
    return plan::Placement{};  // no state root: nothing was ever recorded
  }
  auto current = state->read_state();
  if (!current) {
    // Not a fresh start: placing the teams anew could put a team on another host.
    return Error::failure(fmt::format(
        "the teams' recorded placement cannot be read: {}: repair the file, or move it away "
        "to place the teams anew",
        current.error().message));
  }
  return current->placement;
}

Result<plan::Placement> place_scope(const GlobalOptions& global, const model::Lab& lab,
                                    const plan::Scope& scope, bool force) {
  if (!global.connect.empty() || lab.hosts.empty()) {
    return plan::Placement{};
  }
  plan::PlacementInput input;
  auto recorded = recorded_placement(lab);
  if (!recorded) {
    return recorded.error();
  }
  input.previous = *recorded;
  input.teams = plan::team_demands(lab, scope, input.previous);
  input.default_uri = default_uri(lab);
  // Memory matters only for teams that are neither pinned nor placed on a listed host.
  const bool any_new = std::any_of(input.teams.begin(), input.teams.end(), [&](const auto& t) {
    auto before = input.previous.find(t.team);
    return t.pin.empty() && (before == input.previous.end() || !listed(lab, before->second));
  });
  for (const model::Host& host : lab.hosts) {
    input.hosts.push_back(any_new ? read_host_facts(global, lab, host)
                                  : plan::HostFacts{host.uri, 0, 0, host.reserve, true, ""});
  }
  input.overcommit = force;
  std::vector<std::string> overcommitted;
  auto placed = plan::place_teams(input, &overcommitted);
  for (const std::string& note : overcommitted) {
    notice(global, "warning", "--force: " + note);
  }
  return placed;
}

void record_placement(sys::ClassroomState& state, const plan::Placement& placement) {
  for (const auto& [team, uri] : placement) {
    state.placement[team] = uri;
  }
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

Result<std::unique_ptr<hv::Hypervisor>> connect(const std::string& uri) {
  return hv::open_hypervisor(uri);
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
