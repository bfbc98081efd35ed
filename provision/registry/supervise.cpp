#include "provision/registry/supervise.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <thread>

#include <fmt/format.h>

#include "provision/images/cache.hpp"
#include "provision/registry/host.hpp"
#include "provision/sys/state.hpp"
#include "provision/sys/utc.hpp"

namespace labctl::registry {

namespace fs = std::filesystem;

namespace {

using namespace std::chrono_literals;

Status make_dir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || ::access(dir.c_str(), W_OK) != 0) {
    return Error::failure(fmt::format("cache directory {} is not writable: {}", dir.string(),
                                      ec ? ec.message() : std::strerror(errno)));
  }
  return {};
}

Status make_dirs(const Paths& paths) {
  for (const fs::path& dir : {paths.dir, paths.data, paths.users}) {
    if (auto st = make_dir(dir); !st) {
      return st;
    }
  }
  return {};
}

void remove_files(const Paths& paths) {
  std::error_code ec;
  fs::remove(paths.pid, ec);
  fs::remove(paths.record, ec);
}

// What the files say and whether the process is there; with `probe`, also GET /v2/.
State read_state(const Settings& settings, const Paths& paths, bool probe) {
  State state;
  if (auto text = sys::read_text_file(paths.record)) {
    auto parsed = nlohmann::json::parse(*text, nullptr, false);
    if (auto record = record_from_json(parsed)) {
      state.record = *record;
      state.recorded = true;
    }
  }
  if (auto text = sys::read_text_file(paths.pid)) {
    state.record.pid = std::atoi(text->c_str());
    state.recorded = true;
  }
  state.storage_bytes = tree_size(paths.data);
  if (!state.recorded) {
    state.detail = "not running";
    return state;
  }
  if (!is_process_of(state.record.pid, settings.binary)) {
    state.stale = true;
    state.detail = fmt::format("not running (stale pid file: pid {} is not docker-registry)",
                               state.record.pid);
    return state;
  }
  state.running = true;
  if (probe) {
    const std::string url =
        fmt::format("http://{}:{}/v2/", state.record.address, state.record.port);
    state.http_status = http_status(url, 2000ms);
    state.healthy = state.http_status == 200;
    if (!state.healthy) {
      state.detail = state.http_status == 0
                         ? fmt::format("GET {} got no answer", url)
                         : fmt::format("GET {} answered {}", url, state.http_status);
    }
  }
  return state;
}

// The registry that runs already: fine when it has these settings and answers.
Result<StartReport> running_already(const Settings& settings, const State& state) {
  if (!state.record.same_as(settings)) {
    return Error::failure(
        fmt::format("the classroom registry already runs (pid {}) with {}, not {}: stop it first "
                    "(labctl registry stop) or give the lab the same registry: settings",
                    state.record.pid, state.record.describe(),
                    Record{settings.address, settings.port, settings.upstream}.describe()));
  }
  if (!state.healthy) {
    return Error::failure(fmt::format("the classroom registry runs (pid {}) but {}: see {}",
                                      state.record.pid, state.detail,
                                      paths_of(settings).log.string()));
  }
  return StartReport{state.record, false, false};
}

std::string exit_hint(const Settings& settings, const std::string& failure) {
  if (!settings.upstream.empty() && failure.find(settings.upstream) != std::string::npos) {
    return fmt::format(
        " (docker-registry's proxy mode needs its upstream {} at start: check "
        "the link, or `labctl registry start --offline` serves the cache alone)",
        settings.upstream);
  }
  return "";
}

// Until GET /v2/ answers 200, the process ends, or health_timeout passes.
Status wait_healthy(const Settings& settings, const Paths& paths, pid_t pid,
                    std::uintmax_t log_from) {
  const std::string url = mirror_url(settings) + "/v2/";
  const auto deadline = std::chrono::steady_clock::now() + settings.health_timeout;
  long last = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!is_process_of(pid, settings.binary)) {
      const std::string failure = last_failure(paths.log, log_from);
      return Error::failure(fmt::format("docker-registry exited at start: {}{} (log: {})",
                                        failure.empty() ? "no message" : failure,
                                        exit_hint(settings, failure), paths.log.string()));
    }
    last = http_status(url, 1000ms);
    if (last == 200) {
      return {};
    }
    std::this_thread::sleep_for(100ms);
  }
  return Error::failure(fmt::format(
      "docker-registry (pid {}) did not answer GET {} with 200 within {} ms ({}; log: {})", pid,
      url, settings.health_timeout.count(),
      last == 0 ? std::string("no answer") : fmt::format("last answer {}", last),
      paths.log.string()));
}

Status check_binary(const Settings& settings) {
  if (::access(settings.binary.c_str(), X_OK) != 0) {
    return Error::failure(
        fmt::format("{} cannot be run ({}): install Debian's docker-registry package "
                    "(apt-get install docker-registry, or provision/bootstrap)",
                    settings.binary, std::strerror(errno)));
  }
  return {};
}

// A port that a registry stopped a moment ago held can stay unbindable for a short while
// (seen once in six `[system]` runs: a restart right after `stop`): asked again for up to
// 2 s before the refusal.
Status check_port(const Settings& settings) {
  std::string problem = bind_problem(settings.address, settings.port);
  for (int i = 0; i < 20 && !problem.empty(); ++i) {
    std::this_thread::sleep_for(100ms);
    problem = bind_problem(settings.address, settings.port);
  }
  if (!problem.empty()) {
    return Error::failure(
        fmt::format("cannot listen on {}: {} (another program holds the port? choose another "
                    "registry.port, or stop that program)",
                    endpoint(settings), problem));
  }
  return {};
}

uintmax_t size_or_zero(const fs::path& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  return ec ? 0 : size;
}

// Spawns, records, waits for health; the caller undoes the address on failure.
Result<Record> launch(const Settings& settings, const Paths& paths, const AddressChange& change) {
  const std::uintmax_t log_from = size_or_zero(paths.log);
  auto pid = spawn_detached({settings.binary, "serve", paths.config.string()}, paths.log);
  if (!pid) {
    return pid.error();
  }
  Record record{settings.address, settings.port,    settings.upstream,        *pid,
                sys::utc_now(),   change.interface, change.interface_created, change.address_added};
  Status st = sys::write_file_atomic(paths.pid, fmt::format("{}\n", *pid), 0644);
  if (st) {
    st = sys::write_file_atomic(paths.record, to_json(record).dump(2) + "\n", 0644);
  }
  if (st) {
    st = wait_healthy(settings, paths, *pid, log_from);
  }
  if (!st) {
    (void)terminate(*pid, settings.binary, 2000ms);
    remove_files(paths);
    return st.error();
  }
  return record;
}

// Prepares the files and the address, then launches; anything that fails is undone.
Result<Record> start_fresh(const Settings& settings, const Paths& paths, sys::ProcessRunner& runner,
                           const AddressChange& previous) {
  if (auto st = check_binary(settings); !st) {
    return st.error();
  }
  if (auto st = sys::write_file_atomic(paths.config, render_config(settings, paths), 0644); !st) {
    return st.error();
  }
  auto change = ensure_address(runner, settings.interface, settings.address);
  if (!change) {
    return change.error();
  }
  // A device an earlier start made (the registry died since) stays labctl's to delete.
  if (!change->interface_created && previous.interface_created &&
      previous.interface == change->interface) {
    change->interface_created = true;
  }
  const Status port = check_port(settings);
  Result<Record> record = port ? launch(settings, paths, *change) : Result<Record>(port.error());
  if (!record) {
    (void)undo_address(runner, *change, settings.address);
  }
  return record;
}

}  // namespace

std::uint64_t tree_size(const fs::path& dir) {
  std::uint64_t total = 0;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code size_ec;
    if (it->is_regular_file(size_ec)) {
      const auto size = it->file_size(size_ec);
      total += size_ec ? 0 : size;
    }
  }
  return total;
}

Result<StartReport> start(const Settings& settings, sys::ProcessRunner& runner) {
  if (auto st = check_settings(settings); !st) {
    return st.error();
  }
  const Paths paths = paths_of(settings);
  if (auto st = make_dirs(paths); !st) {
    return st.error();
  }
  auto lock = images::FileLock::acquire(paths.lock.string());
  if (!lock) {
    return lock.error();
  }
  const State now = read_state(settings, paths, true);
  if (now.running) {
    return running_already(settings, now);
  }
  remove_files(paths);
  const AddressChange previous{now.record.interface, now.record.interface_created,
                               now.record.address_added};
  auto record = start_fresh(settings, paths, runner, previous);
  if (!record) {
    return record.error();
  }
  return StartReport{*record, true, now.stale};
}

Result<StopReport> stop(const Settings& settings, sys::ProcessRunner& runner) {
  const Paths paths = paths_of(settings);
  StopReport report;
  std::error_code ec;
  if (!fs::exists(paths.dir, ec)) {
    return report;
  }
  auto lock = images::FileLock::acquire(paths.lock.string());
  if (!lock) {
    return lock.error();
  }
  const State state = read_state(settings, paths, false);
  report.pid = state.record.pid;
  if (state.running) {
    auto killed = terminate(state.record.pid, settings.binary, settings.stop_timeout);
    if (!killed) {
      return killed.error();
    }
    report.was_running = true;
    report.killed = *killed;
  }
  report.stale_removed = state.stale;
  remove_files(paths);
  const Record& r = state.record;
  if (auto st =
          undo_address(runner, {r.interface, r.interface_created, r.address_added}, r.address);
      !st) {
    return st.error();
  }
  report.interface_removed = r.interface_created;
  return report;
}

State status(const Settings& settings) {
  return read_state(settings, paths_of(settings), true);
}

Result<std::uint64_t> prune(const Settings& settings) {
  const Paths paths = paths_of(settings);
  std::error_code ec;
  if (!fs::exists(paths.dir, ec)) {
    return std::uint64_t{0};
  }
  auto lock = images::FileLock::acquire(paths.lock.string());
  if (!lock) {
    return lock.error();
  }
  const State state = read_state(settings, paths, false);
  if (state.running) {
    return Error::failure(fmt::format(
        "the classroom registry is running (pid {}): stop it first (labctl registry stop); "
        "prune never deletes layers under a running registry, a VM may be pulling them",
        state.record.pid));
  }
  const std::uint64_t freed = tree_size(paths.data);
  fs::remove_all(paths.data, ec);
  if (ec) {
    return Error::failure(fmt::format("cannot delete {}: {}", paths.data.string(), ec.message()));
  }
  if (auto st = make_dir(paths.data); !st) {
    return st.error();
  }
  return freed;
}

Status add_user(const Settings& settings, const std::string& classroom) {
  const Paths paths = paths_of(settings);
  if (auto st = make_dir(paths.users); !st) {
    return st;
  }
  return sys::write_file_atomic(paths.users / classroom, sys::utc_now() + "\n", 0644);
}

Result<std::size_t> remove_user(const Settings& settings, const std::string& classroom) {
  const Paths paths = paths_of(settings);
  std::error_code ec;
  fs::remove(paths.users / classroom, ec);
  if (ec) {
    return Error::failure(
        fmt::format("cannot delete {}: {}", (paths.users / classroom).string(), ec.message()));
  }
  return users(settings).size();
}

std::vector<std::string> users(const Settings& settings) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(paths_of(settings).users, ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.find(".tmp.") == std::string::npos) {  // write_file_atomic's temp files
      names.push_back(name);
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace labctl::registry
