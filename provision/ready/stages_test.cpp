#include "provision/ready/stages.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <catch2/catch.hpp>

#include "provision/sys/process.hpp"
#include "tests/support/golden.hpp"
#include "tests/support/labs.hpp"

using namespace labctl;

TEST_CASE("host_answers tells a listening or refusing host from silence", "[unit]") {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(fd, 1) == 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  CHECK(ready::host_answers("127.0.0.1", port, std::chrono::milliseconds(500)));
  ::close(fd);
  // Nothing listens now: loopback refuses, which still means the host is up.
  CHECK(ready::host_answers("127.0.0.1", port, std::chrono::milliseconds(500)));
  CHECK_FALSE(ready::host_answers("not-an-ip", 22, std::chrono::milliseconds(100)));
}

TEST_CASE("tail_lines keeps the last non-empty lines of a serial log", "[unit]") {
  testing::ScratchDir dir("lct-tail");
  const auto path = dir.path() / "serial.log";
  std::ofstream(path) << "one\r\n\ntwo\nthree\nfour\n";
  CHECK(ready::tail_lines(path.string(), 2) == std::vector<std::string>{"three", "four"});
  CHECK(ready::tail_lines(path.string(), 10) ==
        std::vector<std::string>{"one", "two", "three", "four"});
  CHECK(ready::tail_lines((dir.path() / "missing").string(), 3).empty());
}

TEST_CASE("stages are named as the README and status print them", "[unit]") {
  CHECK(ready::to_string(ready::Stage::cloud_init) == "cloud-init done");
  CHECK(ready::to_string(ready::Stage::docker) == "docker up");
  CHECK(ready::to_string(ready::Stage::stack) == "stack healthy");
}

namespace {

// The guest-side command run here by /bin/sh, as sshd would run it in the guest.
sys::ProcessResult run_sh(const std::string& command) {
  auto result = sys::SystemRunner().run({"sh", "-c", command});
  REQUIRE(result.ok());
  return *result;
}

ready::StageOutcome cloud_init_now(const std::string& file, int seconds = 0) {
  const auto r = run_sh(ready::cloud_init_wait_command(seconds, file));
  return ready::cloud_init_outcome(r.exit_code, r.out + r.err);
}

}  // namespace

TEST_CASE("cloud-init done: result.json read by the shell, its errors reported", "[unit]") {
  testing::ScratchDir dir("lct-ci-result");
  const std::string file = (dir.path() / "result.json").string();

  const auto running = cloud_init_now(file);
  CHECK_FALSE(running.done);
  CHECK_FALSE(running.fatal);
  CHECK(running.message.find("still running") != std::string::npos);

  std::ofstream(file) << R"({"v1": {"datasource": "DataSourceNoCloud", "errors": []}})";
  const auto done = cloud_init_now(file);
  CHECK(done.done);
  CHECK(done.message.empty());

  std::ofstream(file)
      << R"j({"v1": {"datasource": null, "errors": ["('users-groups', KeyError('docker'))"]}})j";
  const auto failed = cloud_init_now(file);
  CHECK_FALSE(failed.done);
  CHECK(failed.fatal);
  CHECK(failed.message == "cloud-init finished with errors: ('users-groups', KeyError('docker'))");

  std::ofstream(file) << "not json";
  CHECK(cloud_init_now(file).fatal);
}

TEST_CASE("cloud-init done: the command waits in the guest until the file appears", "[unit]") {
  testing::ScratchDir dir("lct-ci-wait");
  const std::string file = (dir.path() / "it's result.json").string();  // quoted
  std::jthread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    // Whole or not at all, as cloud-init writes it.
    std::ofstream(file + ".tmp") << R"({"v1": {"errors": []}})";
    std::filesystem::rename(file + ".tmp", file);
  });
  CHECK(cloud_init_now(file, 20).done);
}

TEST_CASE("docker up: GET /version on the socket, through curl", "[unit]") {
  testing::ScratchDir dir("lct-docker-sock");
  const std::string path = (dir.path() / "docker.sock").string();

  // Not a socket yet (a file in its place, so curl is what is tried): one look fails, and
  // is not final.
  std::ofstream(path) << "";
  {
    const auto r = run_sh(ready::docker_wait_command(0, path));
    const auto o = ready::docker_outcome(r.exit_code, r.out + r.err);
    CHECK_FALSE(o.done);
    CHECK_FALSE(o.fatal);
  }

  // A one-request HTTP server on a Unix socket, answering as Docker's API does.
  std::filesystem::remove(path);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  REQUIRE(path.size() < sizeof addr.sun_path);
  std::copy(path.begin(), path.end(), addr.sun_path);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(fd, 4) == 0);
  std::jthread server([fd] {
    const int client = ::accept(fd, nullptr, nullptr);
    if (client < 0) {
      return;
    }
    char request[4096];
    const ssize_t n = ::read(client, request, sizeof request);
    const std::string body = R"({"Version":"20.10.24","ApiVersion":"1.41"})";
    const std::string reply =
        std::string(n > 0 && std::string(request, std::size_t(n)).starts_with("GET /version ")
                        ? "HTTP/1.1 200 OK"
                        : "HTTP/1.1 404 Not Found") +
        "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
        "\r\nConnection: close\r\n\r\n" + body;
    CHECK(::write(client, reply.data(), reply.size()) == ssize_t(reply.size()));
    ::close(client);
  });
  const auto r = run_sh(ready::docker_wait_command(10, path));
  ::close(fd);
  const auto o = ready::docker_outcome(r.exit_code, r.out + r.err);
  CHECK(o.done);
  CHECK(o.message.find("20.10.24") != std::string::npos);
}

TEST_CASE("cloud-init done, then one look at Docker in the same exec", "[unit]") {
  testing::ScratchDir dir("lct-ci-docker");
  const std::string file = (dir.path() / "result.json").string();
  const std::string socket = (dir.path() / "docker.sock").string();
  std::ofstream(socket) << "";  // not a socket: curl is tried and fails
  const auto now = [&] {
    const auto r = run_sh(ready::cloud_init_then_docker_command(0, file, socket));
    return ready::cloud_init_then_docker_outcome(r.exit_code, r.out, r.err);
  };

  // cloud-init still running: Docker is not looked at.
  const auto running = now();
  CHECK_FALSE(running.cloud_init.done);
  CHECK(running.cloud_init.message.find("still running") != std::string::npos);
  CHECK_FALSE(running.docker);

  // cloud-init done, Docker not answering: the first stage done, the second not yet.
  std::ofstream(file) << R"({"v1": {"errors": []}})";
  const auto done = now();
  CHECK(done.cloud_init.done);
  REQUIRE(done.docker);
  CHECK_FALSE(done.docker->done);
  CHECK_FALSE(done.docker->fatal);

  // What the guest prints once both are done.
  const auto both = ready::cloud_init_then_docker_outcome(
      0,
      R"({"v1": {"errors": []}})" + std::string("\n") + ready::k_docker_part +
          "\n{\"Version\":\"20.10.24\",\"ApiVersion\":\"1.41\"}\n",
      "");
  CHECK(both.cloud_init.done);
  REQUIRE(both.docker);
  CHECK(both.docker->done);
}

TEST_CASE("docker up: the outcome of docker info when curl is not in the guest", "[unit]") {
  CHECK(ready::docker_outcome(0, "20.10.24\n").done);
  CHECK_FALSE(ready::docker_outcome(0, "\n").done);
  const auto denied = ready::docker_outcome(1, "sudo: a password is required\n");
  CHECK_FALSE(denied.done);
  CHECK(denied.message == "docker exited 1: sudo: a password is required");
  CHECK_FALSE(ready::docker_outcome(0, R"({"message":"page not found"})").done);
}

TEST_CASE("docker up: the probe on this host's real Docker engine", "[docker]") {
  const auto r = run_sh(ready::docker_wait_command(30));
  const auto o = ready::docker_outcome(r.exit_code, r.out + r.err);
  INFO(o.message);
  CHECK(o.done);
  CHECK(o.message.find("\"ApiVersion\"") != std::string::npos);
}

TEST_CASE("wait_ready fails a stage at once when the console shows a panic", "[libvirt]") {
  // test:///default's own domain "test" runs; its address never answers (no IP to reach),
  // so without the console the address stage would wait for its whole timeout.
  auto hypervisor = hv::open_hypervisor("test:///default");
  REQUIRE(hypervisor);
  testing::ScratchDir dir("lct-failfast");
  const auto log = dir.path() / "serial.log";
  std::ofstream(log) << "[    1.0] Run /sbin/init as init process\n";
  const model::Lab lab = testing::small_lab();  // the VM below is test:///default's own
  model::Vm vm;
  vm.key = "vm1";
  vm.team = "blue";
  vm.name = "test";
  vm.nics.push_back({.network = "lan", .ip = "no-address"});
  ready::Deps deps;
  deps.hypervisor = hypervisor->get();
  deps.serial_log = [&](const model::Vm&) { return log.string(); };
  ready::Timeouts timeouts;
  timeouts.stages.address = std::chrono::seconds(600);
  timeouts.poll = std::chrono::milliseconds(50);
  sys::RecordingReporter reporter;
  std::jthread panic([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    std::ofstream(log, std::ios::app)
        << "[    5.2] Kernel panic - not syncing: Attempted to kill init! exitcode=0x100\n";
  });
  const auto results =
      ready::wait_ready(lab, {&vm}, deps, timeouts, ready::Stage::docker, reporter);
  REQUIRE(results.size() == 1);
  CHECK(results[0].reached == ready::Stage::running);
  CHECK(results[0].failed == ready::Stage::address);
  CHECK(results[0].message ==
        "the console shows a kernel panic: [    5.2] Kernel panic - not syncing: Attempted to "
        "kill init! exitcode=0x100");
  CHECK(results[0].serial_tail.back().find("Kernel panic") != std::string::npos);
  CHECK(results[0].seconds < 60);  // not the 600 s timeout
}
