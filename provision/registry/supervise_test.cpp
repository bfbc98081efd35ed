#include "provision/registry/supervise.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "provision/registry/host.hpp"
#include "provision/sys/state.hpp"
#include "tests/support/golden.hpp"
#include "tests/support/loopback.hpp"

namespace reg = labctl::registry;
namespace fs = std::filesystem;
using labctl::testing::ScratchDir;

namespace {

using namespace std::chrono_literals;

// Records every command; `ip link show` answers as `device_exists`, `ip -o -4 addr show`
// with `addresses`.
class FakeRunner : public labctl::sys::ProcessRunner {
 public:
  using ProcessRunner::run;
  std::vector<std::string> calls;
  bool device_exists = false;
  std::string addresses = "1: lo    inet 127.0.0.1/8 scope host lo\n";
  std::string fail_on;    // a command line that exits 2
  bool no_dummy = false;  // a kernel without the dummy driver

  labctl::Result<labctl::sys::ProcessResult> run(const std::vector<std::string>& argv,
                                                 const labctl::sys::ProcessOptions&) override {
    const std::string line = fmt::format("{}", fmt::join(argv, " "));
    calls.push_back(line);
    if (no_dummy && line.ends_with("type dummy")) {
      return labctl::sys::ProcessResult{2, "", "Error: Unknown device type.\n"};
    }
    if (line == fail_on) {
      return labctl::sys::ProcessResult{2, "", "RTNETLINK answers: Operation not permitted\n"};
    }
    if (line.starts_with("ip link add")) {
      device_exists = true;
    }
    if (line.starts_with("ip link show")) {
      return labctl::sys::ProcessResult{device_exists ? 0 : 1, "", ""};
    }
    if (line == "ip -o -4 addr show") {
      return labctl::sys::ProcessResult{0, addresses, ""};
    }
    return labctl::sys::ProcessResult{0, "", ""};
  }
};

// A listening socket that holds a port for the test's length.
class HeldPort {
 public:
  explicit HeldPort(int port) : m_fd(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in where{};
    where.sin_family = AF_INET;
    where.sin_port = htons(static_cast<std::uint16_t>(port));
    where.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    m_ok = ::bind(m_fd, reinterpret_cast<sockaddr*>(&where), sizeof where) == 0 &&
           ::listen(m_fd, 1) == 0;
  }
  ~HeldPort() { ::close(m_fd); }
  HeldPort(const HeldPort&) = delete;
  HeldPort& operator=(const HeldPort&) = delete;
  bool ok() const { return m_ok; }

 private:
  int m_fd;
  bool m_ok = false;
};

reg::Settings loopback_settings(const ScratchDir& scratch, const std::string& upstream = "") {
  reg::Settings settings;
  settings.address = "127.0.0.1";
  settings.port = labctl::testing::free_loopback_port();
  settings.upstream = upstream;
  settings.cache_dir = scratch.path().string();
  return settings;
}

// Stops the registry of `settings` at scope exit, whatever the test did.
class Stopper {
 public:
  explicit Stopper(reg::Settings settings) : m_settings(std::move(settings)) {}
  ~Stopper() {
    labctl::sys::SystemRunner runner;
    (void)reg::stop(m_settings, runner);
  }
  Stopper(const Stopper&) = delete;
  Stopper& operator=(const Stopper&) = delete;

 private:
  reg::Settings m_settings;
};

std::string why_not_runnable() {
  if (::access(reg::k_default_binary, X_OK) != 0) {
    return std::string(reg::k_default_binary) + " is missing (apt-get install docker-registry)";
  }
  return "";
}

bool no_registry_on(const reg::Settings& settings) {
  return reg::http_status(reg::mirror_url(settings) + "/v2/", 500ms) == 0;
}

}  // namespace

TEST_CASE("registry config.yml and settings", "[unit]") {
  reg::Settings settings;
  settings.cache_dir = "/var/cache/labctl";
  const reg::Paths paths = reg::paths_of(settings);
  CHECK(paths.data == "/var/cache/labctl/registry/data");

  SECTION("proxy mode, storage under the cache, one address, deletes enabled, no auth") {
    CHECK(reg::render_config(settings, paths) ==
          "# Written by labctl at each `labctl registry start`: edits are lost.\n"
          "version: 0.1\n"
          "log:\n"
          "  level: info\n"
          "storage:\n"
          "  filesystem:\n"
          "    rootdirectory: \"/var/cache/labctl/registry/data\"\n"
          "  delete:\n"
          "    enabled: true\n"
          "http:\n"
          "  addr: \"10.255.255.1:5000\"\n"
          "proxy:\n"
          "  remoteurl: \"https://registry-1.docker.io\"\n");
  }
  SECTION("no upstream: no proxy section (the cache alone)") {
    settings.upstream = "";
    CHECK(reg::render_config(settings, paths).find("proxy") == std::string::npos);
  }
  SECTION("bad settings are refused, naming the value") {
    CHECK(reg::check_settings(settings));
    settings.address = "10.255.255";
    CHECK(reg::check_settings(settings).error().message.find("'10.255.255'") != std::string::npos);
    settings.address = "0.0.0.0";
    CHECK_FALSE(reg::check_settings(settings));
    settings.address = "127.0.0.1";
    settings.port = 70000;
    CHECK(reg::check_settings(settings).error().message.find("70000") != std::string::npos);
    settings.port = 5000;
    settings.interface = "a-name-longer-than-15";
    CHECK_FALSE(reg::check_settings(settings));
  }
  SECTION("registry.json round trip") {
    const reg::Record record{"10.255.255.1",
                             5000,
                             "https://registry-1.docker.io",
                             42,
                             "2026-12-05T00:00:00Z",
                             "labctl-registry",
                             true,
                             true};
    auto back = reg::record_from_json(reg::to_json(record));
    REQUIRE(back);
    CHECK(reg::to_json(*back) == reg::to_json(record));
    CHECK(back->same_as(settings));
    CHECK_FALSE(reg::record_from_json(nlohmann::json{{"address", 1}}));
  }
}

TEST_CASE("the registry's host-only address", "[unit]") {
  FakeRunner runner;
  SECTION("a new dummy device with ADDRESS/32, deleted again by undo") {
    auto change = reg::ensure_address(runner, "labctl-registry", "10.255.255.1");
    REQUIRE(change);
    CHECK(change->interface_created);
    CHECK(runner.calls ==
          std::vector<std::string>{"ip -o -4 addr show", "ip link show dev labctl-registry",
                                   "ip link add labctl-registry type dummy",
                                   "ip addr add 10.255.255.1/32 dev labctl-registry",
                                   "ip link set dev labctl-registry up"});
    runner.calls.clear();
    REQUIRE(reg::undo_address(runner, *change, "10.255.255.1"));
    CHECK(runner.calls == std::vector<std::string>{"ip link show dev labctl-registry",
                                                   "ip link del labctl-registry"});
  }
  SECTION("no dummy driver in the kernel: an empty bridge holds the address") {
    runner.no_dummy = true;
    auto change = reg::ensure_address(runner, "labctl-registry", "10.255.255.1");
    REQUIRE(change);
    CHECK(change->interface_created);
    CHECK(runner.calls[2] == "ip link add labctl-registry type dummy");
    CHECK(runner.calls[3] == "ip link add labctl-registry type bridge");
  }
  SECTION("loopback, or an address the host has already: nothing to do") {
    CHECK(reg::ensure_address(runner, "labctl-registry", "127.0.0.1")->interface.empty());
    CHECK(runner.calls.empty());
    runner.addresses += "2: eth0    inet 192.168.1.10/24 brd 192.168.1.255 scope global eth0\n";
    CHECK(reg::ensure_address(runner, "labctl-registry", "192.168.1.10")->interface.empty());
    CHECK(runner.calls == std::vector<std::string>{"ip -o -4 addr show"});
  }
  SECTION("an existing device only gets the address: undo removes just that") {
    runner.device_exists = true;
    auto change = reg::ensure_address(runner, "labctl-registry", "10.255.255.1");
    REQUIRE(change);
    CHECK_FALSE(change->interface_created);
    CHECK(change->address_added);
    runner.calls.clear();
    runner.addresses += "9: labctl-registry    inet 10.255.255.1/32 scope global\n";
    REQUIRE(reg::undo_address(runner, *change, "10.255.255.1"));
    CHECK(runner.calls ==
          std::vector<std::string>{"ip -o -4 addr show",
                                   "ip addr del 10.255.255.1/32 dev labctl-registry"});
  }
  SECTION("a failure names the command and removes the device it made") {
    runner.fail_on = "ip link set dev labctl-registry up";
    auto change = reg::ensure_address(runner, "labctl-registry", "10.255.255.1");
    REQUIRE_FALSE(change);
    CHECK(change.error().message ==
          "`ip link set dev labctl-registry up` failed: ip exited with 2: RTNETLINK answers: "
          "Operation not permitted");
    CHECK(runner.calls.back() == "ip link del labctl-registry");
  }
}

TEST_CASE("registry users: the classrooms that use it", "[unit]") {
  ScratchDir scratch("lct-reg-users");
  reg::Settings settings;
  settings.cache_dir = scratch.path().string();
  REQUIRE(reg::add_user(settings, "cd26"));
  REQUIRE(reg::add_user(settings, "cd27"));
  REQUIRE(reg::add_user(settings, "cd26"));
  CHECK(reg::users(settings) == std::vector<std::string>{"cd26", "cd27"});
  CHECK(*reg::remove_user(settings, "cd26") == 1);
  CHECK(*reg::remove_user(settings, "cd26") == 1);  // gone already
  CHECK(*reg::remove_user(settings, "cd27") == 0);
}

TEST_CASE("a real docker-registry: start, status, stop, restart", "[system]") {
  if (const std::string why = why_not_runnable(); !why.empty()) {
    WARN("SKIPPED: " << why);
    return;
  }
  ScratchDir scratch("lct-reg");
  const reg::Settings settings = loopback_settings(scratch);
  Stopper stopper(settings);
  labctl::sys::SystemRunner runner;
  const reg::Paths paths = reg::paths_of(settings);

  auto started = reg::start(settings, runner);
  INFO((started ? "" : started.error().message));
  REQUIRE(started);
  CHECK(started->started);
  CHECK(started->record.interface.empty());  // loopback: no device
  const int pid = started->record.pid;
  CHECK(fs::exists(paths.config));
  CHECK(labctl::sys::read_text_file(paths.pid).value() == fmt::format("{}\n", pid));

  reg::State state = reg::status(settings);
  CHECK(state.running);
  CHECK(state.healthy);
  CHECK(state.http_status == 200);
  CHECK(state.record.port == settings.port);

  SECTION("a second start finds it running with the same settings") {
    auto again = reg::start(settings, runner);
    REQUIRE(again);
    CHECK_FALSE(again->started);
    CHECK(again->record.pid == pid);
  }
  SECTION("another address or port while it runs: refused, both named") {
    reg::Settings other = settings;
    other.port = labctl::testing::free_loopback_port();
    auto refused = reg::start(other, runner);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().message.find(fmt::format("127.0.0.1:{}", settings.port)) !=
          std::string::npos);
    CHECK(refused.error().message.find(fmt::format("127.0.0.1:{}", other.port)) !=
          std::string::npos);
    CHECK(no_registry_on(other));
    CHECK(reg::status(settings).healthy);
  }
  SECTION("stop ends it, keeps data/ and the log; a restart gets a new process") {
    const std::string marker = (paths.data / "kept").string();
    REQUIRE(labctl::sys::write_file_atomic(marker, "x", 0644));
    auto stopped = reg::stop(settings, runner);
    REQUIRE(stopped);
    CHECK(stopped->was_running);
    CHECK_FALSE(stopped->killed);  // SIGTERM was enough
    CHECK_FALSE(reg::is_process_of(pid, settings.binary));
    CHECK_FALSE(fs::exists(paths.pid));
    CHECK_FALSE(fs::exists(paths.record));
    CHECK(fs::exists(marker));
    CHECK(fs::exists(paths.log));
    CHECK_FALSE(reg::status(settings).running);
    CHECK_FALSE(reg::stop(settings, runner)->was_running);  // stopping twice is fine

    auto restarted = reg::start(settings, runner);
    INFO((restarted ? "" : restarted.error().message));
    REQUIRE(restarted);
    CHECK(restarted->record.pid != pid);
    CHECK(reg::status(settings).healthy);
    SECTION("prune is refused while it runs, and empties data/ once stopped") {
      CHECK_FALSE(reg::prune(settings));
      CHECK(fs::exists(marker));
      REQUIRE(reg::stop(settings, runner));
      auto freed = reg::prune(settings);
      REQUIRE(freed);
      CHECK(*freed == 1);
      CHECK_FALSE(fs::exists(marker));
      CHECK(fs::is_directory(paths.data));
    }
  }
}

TEST_CASE("a real docker-registry as a pull-through cache records its upstream", "[system]") {
  if (const std::string why = why_not_runnable(); !why.empty()) {
    WARN("SKIPPED: " << why);
    return;
  }
  labctl::sys::SystemRunner runner;
  ScratchDir upstream_dir("lct-reg-up");
  const reg::Settings upstream = loopback_settings(upstream_dir);
  Stopper stop_upstream(upstream);
  REQUIRE(reg::start(upstream, runner));

  ScratchDir scratch("lct-reg");
  SECTION("a reachable upstream") {
    const reg::Settings settings = loopback_settings(scratch, reg::mirror_url(upstream));
    Stopper stopper(settings);
    auto started = reg::start(settings, runner);
    INFO((started ? "" : started.error().message));
    REQUIRE(started);
    const reg::State state = reg::status(settings);
    CHECK(state.healthy);
    CHECK(state.record.upstream == reg::mirror_url(upstream));
    auto json = nlohmann::json::parse(*labctl::sys::read_text_file(reg::paths_of(settings).record));
    CHECK(json["upstream"] == reg::mirror_url(upstream));
    CHECK(json["address"] == "127.0.0.1");
    CHECK(json["port"] == settings.port);
    CHECK(json["pid"] == state.record.pid);
  }
  SECTION("an unreachable upstream: a clear error, nothing left running") {
    const std::string gone =
        fmt::format("http://127.0.0.1:{}", labctl::testing::free_loopback_port());
    const reg::Settings settings = loopback_settings(scratch, gone);
    Stopper stopper(settings);
    auto started = reg::start(settings, runner);
    REQUIRE_FALSE(started);
    INFO(started.error().message);
    CHECK(started.error().message.starts_with("docker-registry exited at start: "));
    CHECK(started.error().message.find(gone) != std::string::npos);
    CHECK_FALSE(fs::exists(reg::paths_of(settings).pid));
    CHECK_FALSE(reg::status(settings).recorded);
    CHECK(no_registry_on(settings));
  }
}

TEST_CASE("registry start refuses bad conditions and leaves nothing behind", "[system]") {
  if (const std::string why = why_not_runnable(); !why.empty()) {
    WARN("SKIPPED: " << why);
    return;
  }
  ScratchDir scratch("lct-reg");
  reg::Settings settings = loopback_settings(scratch);
  Stopper stopper(settings);
  labctl::sys::SystemRunner runner;
  const reg::Paths paths = reg::paths_of(settings);

  SECTION("a port in use") {
    HeldPort held(settings.port);
    REQUIRE(held.ok());
    auto started = reg::start(settings, runner);
    REQUIRE_FALSE(started);
    CHECK(started.error().message ==
          fmt::format("cannot listen on 127.0.0.1:{}: Address already in use (another program "
                      "holds the port? choose another registry.port, or stop that program)",
                      settings.port));
    CHECK_FALSE(fs::exists(paths.pid));
    CHECK_FALSE(fs::exists(paths.record));
    CHECK_FALSE(reg::status(settings).recorded);
  }
  SECTION("a missing binary") {
    settings.binary = (scratch.path() / "no-such-docker-registry").string();
    auto started = reg::start(settings, runner);
    REQUIRE_FALSE(started);
    CHECK(started.error().message.starts_with(settings.binary + " cannot be run"));
    CHECK(started.error().message.find("apt-get install docker-registry") != std::string::npos);
    CHECK_FALSE(fs::exists(paths.pid));
  }
  SECTION("a cache directory that cannot be written") {
    REQUIRE(labctl::sys::write_file_atomic(scratch.path() / "file", "", 0644));
    settings.cache_dir = (scratch.path() / "file" / "cache").string();
    auto started = reg::start(settings, runner);
    REQUIRE_FALSE(started);
    CHECK(started.error().message.starts_with("cache directory " + settings.cache_dir +
                                              "/registry is not writable: "));
  }
  SECTION("a stale pid file: a live process that is not docker-registry") {
    std::filesystem::create_directories(paths.dir);
    REQUIRE(labctl::sys::write_file_atomic(paths.pid, fmt::format("{}\n", ::getpid()), 0644));
    const reg::State state = reg::status(settings);
    CHECK(state.stale);
    CHECK_FALSE(state.running);
    CHECK(state.detail.find("stale pid file") != std::string::npos);
    auto stopped = reg::stop(settings, runner);  // must not signal this test
    REQUIRE(stopped);
    CHECK(stopped->stale_removed);
    CHECK_FALSE(stopped->was_running);
    CHECK_FALSE(fs::exists(paths.pid));

    REQUIRE(labctl::sys::write_file_atomic(paths.pid, "999999999\n", 0644));
    auto started = reg::start(settings, runner);
    REQUIRE(started);
    CHECK(started->stale_removed);
    CHECK(reg::status(settings).healthy);
  }
}

namespace {

// Deletes the test's dummy device at scope exit, also when the test failed.
class DeviceGuard {
 public:
  explicit DeviceGuard(std::string name) : m_name(std::move(name)) {}
  ~DeviceGuard() {
    labctl::sys::SystemRunner runner;
    (void)runner.run({"ip", "link", "del", m_name});
  }
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  std::string m_name;
};

bool device_exists(const std::string& name) {
  labctl::sys::SystemRunner runner;
  auto shown = runner.run({"ip", "link", "show", "dev", name});
  return shown && shown->exit_code == 0;
}

}  // namespace

TEST_CASE("a real docker-registry on its own dummy interface", "[system]") {
  if (const std::string why = why_not_runnable(); !why.empty()) {
    WARN("SKIPPED: " << why);
    return;
  }
  if (::geteuid() != 0 || !labctl::sys::on_path("ip")) {
    WARN("SKIPPED: needs root and ip(8) to make a dummy interface");
    return;
  }
  ScratchDir scratch("lct-reg");
  reg::Settings settings = loopback_settings(scratch);
  const int unique = ::getpid() % 60000;
  settings.interface = fmt::format("lct-reg{}", unique);
  settings.address = fmt::format("10.255.{}.{}", 200 + unique % 50, 1 + unique % 250);
  DeviceGuard guard(settings.interface);
  Stopper stopper(settings);
  labctl::sys::SystemRunner runner;
  REQUIRE_FALSE(device_exists(settings.interface));

  auto started = reg::start(settings, runner);
  INFO((started ? "" : started.error().message));
  REQUIRE(started);
  CHECK(started->record.interface == settings.interface);
  CHECK(started->record.interface_created);
  CHECK(device_exists(settings.interface));
  auto shown = runner.run({"ip", "-o", "-4", "addr", "show", "dev", settings.interface});
  REQUIRE(shown);
  CHECK(shown->out.find("inet " + settings.address + "/32") != std::string::npos);
  CHECK(reg::status(settings).healthy);

  auto stopped = reg::stop(settings, runner);
  REQUIRE(stopped);
  CHECK(stopped->interface_removed);
  CHECK_FALSE(device_exists(settings.interface));
}
