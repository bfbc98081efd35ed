#pragma once

// The host's classroom registry: Debian's docker-registry (distribution 2.8) as a pull-through
// cache of an upstream (Docker Hub), one per host, shared by every classroom. This machine has
// no systemd: labctl starts it detached (its own session, output to a log file) and supervises
// it by its pid file and a health probe on GET /v2/ (which must answer 200: the sandbox accepts
// TCP connections to addresses with nothing behind them, so a connect proves nothing).
//
// Everything lives under <cache dir>/registry/ (cache dir: images::default_cache_dir()):
//   config.yml     rendered by labctl at each start
//   data/          the storage, shared by every classroom; kept by stop, emptied by prune
//   registry.pid   the running process
//   registry.log   its stdout and stderr (appended)
//   registry.json  what it was started with (address, port, upstream, pid, start time, and
//                  whether labctl created the host-only interface)
//   users/         one file per classroom that uses it (`up` adds, `down --all` removes)
//   lock           serialises start, stop and prune across labctl processes
//
// It listens on one host-only address: a dummy interface (`labctl-registry`, ADDRESS/32)
// that start creates when the address is not on the host yet, and stop removes only when
// start created it. A loopback address (127.x) or an address the host already has needs none.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "provision/result.hpp"
#include "provision/sys/process.hpp"

namespace labctl::registry {

inline constexpr const char* k_default_address = "10.255.255.1";
inline constexpr int k_default_port = 5000;
inline constexpr const char* k_default_upstream = "https://registry-1.docker.io";
inline constexpr const char* k_default_interface = "labctl-registry";
inline constexpr const char* k_default_binary = "/usr/bin/docker-registry";

struct Settings {
  std::string address = k_default_address;
  int port = k_default_port;
  // The pull-through cache's remote; "" = no proxy: only what the storage holds is served
  // (an offline classroom; docker-registry 2.8 in proxy mode refuses to start without it).
  std::string upstream = k_default_upstream;
  std::string interface = k_default_interface;  // the dummy device made for `address`
  std::string cache_dir;                        // "" = images::default_cache_dir()
  std::string binary = k_default_binary;
  std::chrono::milliseconds health_timeout{10000};  // start: until /v2/ answers 200
  std::chrono::milliseconds stop_timeout{5000};     // stop: SIGTERM, then SIGKILL
};

// "ADDRESS:PORT", what the VMs' daemon.json names.
std::string endpoint(const Settings& settings);
// "http://ADDRESS:PORT"
std::string mirror_url(const Settings& settings);
// Address, port, upstream and interface name are well formed; else what is wrong.
Status check_settings(const Settings& settings);

struct Paths {
  std::filesystem::path dir, config, data, pid, log, record, users, lock;
};
Paths paths_of(const Settings& settings);

// config.yml: proxy mode (unless upstream is ""), filesystem storage under data/, deletes
// enabled (prune, and the proxy's expiry), http.addr ADDRESS:PORT, no auth.
std::string render_config(const Settings& settings, const Paths& paths);

// registry.json.
struct Record {
  std::string address;
  int port = 0;
  std::string upstream;
  int pid = 0;
  std::string started;             // UTC, ISO 8601
  std::string interface;           // "" when none was needed
  bool interface_created = false;  // start made the device: stop deletes it
  bool address_added = false;      // start put the address on an existing device
  bool same_as(const Settings& settings) const;
  std::string describe() const;  // "10.255.255.1:5000, upstream https://..."
};
nlohmann::json to_json(const Record& record);
Result<Record> record_from_json(const nlohmann::json& json);

struct State {
  bool recorded = false;            // registry.json or registry.pid exists
  Record record;                    // from registry.json (pid from registry.pid when that is all)
  bool running = false;             // the pid is alive and is docker-registry
  bool healthy = false;             // and GET /v2/ answered 200
  long http_status = 0;             // what /v2/ answered (0: no answer)
  bool stale = false;               // a pid file whose process is gone or is something else
  std::string detail;               // why not running or not healthy
  std::uint64_t storage_bytes = 0;  // what data/ holds
};

struct StartReport {
  Record record;
  bool started = false;  // false: it already ran with these settings
  bool stale_removed = false;
};

struct StopReport {
  bool was_running = false;
  int pid = 0;
  bool killed = false;  // SIGTERM was not enough
  bool stale_removed = false;
  bool interface_removed = false;
};

// Starts docker-registry detached, or finds it running with the same address, port and
// upstream. Another one running with other settings is an error naming both. On any
// failure (binary missing, cache not writable or full, port in use, no 200 from /v2/ in
// health_timeout) nothing is left behind: no process, no pid file, no interface made here.
Result<StartReport> start(const Settings& settings, sys::ProcessRunner& runner);
// SIGTERM, a bounded wait, then SIGKILL; removes the pid file, registry.json and the
// interface start created. Keeps config.yml, the log and data/. Not running is not an error.
Result<StopReport> stop(const Settings& settings, sys::ProcessRunner& runner);
// Reads the pid file and registry.json, checks the process and probes /v2/ (bounded).
State status(const Settings& settings);
// Deletes the cached layers (data/). Refused while the registry runs: a VM could be pulling.
Result<std::uint64_t> prune(const Settings& settings);

// Classrooms that use the registry: `up` adds one, `down --all` removes it; the registry
// stops with the last.
Status add_user(const Settings& settings, const std::string& classroom);
// Returns how many users are left.
Result<std::size_t> remove_user(const Settings& settings, const std::string& classroom);
std::vector<std::string> users(const Settings& settings);

// Bytes in the files under `dir` (0 when absent).
std::uint64_t tree_size(const std::filesystem::path& dir);

}  // namespace labctl::registry
