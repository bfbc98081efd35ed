// The readiness wait loop (ready::wait_ready) on its seams: test:///default's running domain
// for the hypervisor stages, and fakes for what needs a booted guest (a TCP probe, a shell
// that answers the guest-side waits, a health check) and for time (a clock whose sleeps only
// move it forward): stage order, timeouts, fail-fast on the console, Ctrl-C, one VM failing
// while the others go on, the first login held while the console shows cloud-init at work.
// [libvirt] tier, no VM, a fraction of a second.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "hypervisors/hypervisor.hpp"
#include "provision/ready/stages.hpp"
#include "provision/sys/reporter.hpp"
#include "tests/support/fake_clock.hpp"
#include "tests/support/golden.hpp"
#include "tests/support/labs.hpp"

using namespace labctl;
using testing::FakeClock;

namespace {

// A guest's shell: answers the cloud-init and docker waits with `cloud_init` and `docker`,
// and records every command.
struct Guest {
  std::function<sys::ProcessResult(int call)> cloud_init = [](int) {
    return sys::ProcessResult{0, R"({"v1": {"datasource": "NoCloud", "errors": []}})", ""};
  };
  std::function<sys::ProcessResult(int call)> docker = [](int) {
    return sys::ProcessResult{0, R"({"Version": "20.10.24", "ApiVersion": "1.41"})", ""};
  };
  std::mutex mutex;
  std::vector<std::string> commands;
  int cloud_init_calls = 0;
  int docker_calls = 0;
};

class FakeShell : public sys::Shell {
 public:
  explicit FakeShell(Guest& guest) : m_guest(guest) {}
  Result<sys::ProcessResult> exec(const std::string& command) override {
    std::lock_guard lock(m_guest.mutex);
    m_guest.commands.push_back(command);
    if (command.find(ready::k_cloud_init_result) != std::string::npos) {
      sys::ProcessResult r = m_guest.cloud_init(++m_guest.cloud_init_calls);
      // As the guest's shell runs `up`'s command: Docker's part once cloud-init's succeeded.
      if (command.find(ready::k_docker_socket) != std::string::npos && r.exit_code == 0) {
        const sys::ProcessResult d = m_guest.docker(++m_guest.docker_calls);
        r = {d.exit_code, r.out + "\n" + ready::k_docker_part + "\n" + d.out, r.err + d.err};
      }
      return r;
    }
    if (command.find(ready::k_docker_socket) != std::string::npos) {
      return m_guest.docker(++m_guest.docker_calls);
    }
    return sys::ProcessResult{127, "", "unexpected command"};
  }
  Status put_file(const std::string&, const std::string&, int) override {
    return Error::failure("no files in this test");
  }

 private:
  Guest& m_guest;
};

model::Vm vm_named(const std::string& key, const std::string& ip) {
  model::Vm vm;
  vm.team = "blue";
  vm.key = key;
  vm.name = "test";  // test:///default's own domain, running
  vm.nics.push_back({.network = "lan", .ip = ip});
  vm.instances.push_back({.name = "main", .version = "6.0.0", .port = 8081});
  return vm;
}

// The seams wired to fakes: every VM's guest answers from `guests` by its address.
struct Rig {
  model::Lab lab = testing::small_lab();  // the VMs waited on are vm_named's, not its own
  std::unique_ptr<hv::Hypervisor> hypervisor;
  FakeClock clock;
  std::atomic<bool> stop{false};
  std::map<std::string, Guest> guests;  // by address
  std::map<std::string, bool> answers;  // TCP on port 22, by address (default: yes)
  std::map<std::string, bool> healthy;  // the stack, by address (default: yes)
  std::mutex deployed_mutex;
  std::vector<std::string> deployed;
  std::atomic<int> connects{0};
  std::chrono::steady_clock::duration first_connect_at = std::chrono::steady_clock::duration::max();
  std::atomic<int> deployed_with_session{0};
  ready::Deps deps;
  ready::Timeouts timeouts;
  sys::RecordingReporter reporter;

  Rig() {
    auto opened = hv::open_hypervisor("test:///default");
    REQUIRE(opened);
    hypervisor = std::move(*opened);
    deps.hypervisor = hypervisor.get();
    deps.clock = &clock;
    deps.stop = &stop;
    deps.ssh_target = [](const model::Vm& vm) {
      return Result<ready::SshTarget>(ready::SshTarget{.host = ready::vm_address(vm)});
    };
    deps.connect = [this](const ready::SshTarget& target) {
      ++connects;
      first_connect_at =
          std::min(first_connect_at, clock.now() - std::chrono::steady_clock::time_point{});
      return Result<std::unique_ptr<sys::Shell>>(
          std::make_unique<FakeShell>(guests.at(target.host)));
    };
    deps.tcp_answers = [this](const std::string& ip, int port, std::chrono::milliseconds) {
      return port == 22 && (!answers.contains(ip) || answers.at(ip));
    };
    deps.instance_healthy = [this](const std::string& ip, const model::Instance&) {
      return !healthy.contains(ip) || healthy.at(ip);
    };
    deps.deploy = [this](const model::Vm& vm, sys::Shell& session) {
      deployed_with_session += dynamic_cast<FakeShell*>(&session) != nullptr ? 1 : 0;
      std::lock_guard lock(deployed_mutex);
      deployed.push_back(vm.key);
      return Status{};
    };
    timeouts.poll = std::chrono::milliseconds(1000);
  }

  std::vector<ready::VmReadiness> wait(const std::vector<const model::Vm*>& vms) {
    for (const model::Vm* vm : vms) {
      guests[ready::vm_address(*vm)];  // made before the threads look them up (at())
    }
    return ready::wait_ready(lab, vms, deps, timeouts, ready::Stage::stack, reporter);
  }

  // "subject state" of every event of one VM, in order.
  std::vector<std::string> events_of(const std::string& vm) const {
    std::vector<std::string> out;
    for (const sys::Event& e : reporter.events()) {
      if (e.vm == vm) {
        out.push_back(e.subject + " " + sys::to_string(e.state));
      }
    }
    return out;
  }
};

}  // namespace

TEST_CASE("wait_ready: every stage in order, the stack deployed once Docker is up", "[libvirt]") {
  Rig rig;
  const model::Vm vm = vm_named("vm1", "10.0.0.11");
  rig.guests["10.0.0.11"].cloud_init = [](int call) {
    // Twice "still running" (the guest-side wait timed out), then done.
    return call < 3 ? sys::ProcessResult{3, "cloud-init is still running", ""}
                    : sys::ProcessResult{0, R"({"v1": {"errors": []}})", ""};
  };
  const auto results = rig.wait({&vm});
  REQUIRE(results.size() == 1);
  INFO(results[0].message);
  CHECK(results[0].failed == ready::Stage::none);
  CHECK(results[0].reached == ready::Stage::stack);
  CHECK(results[0].stage_seconds.size() == 7);
  CHECK(rig.guests["10.0.0.11"].cloud_init_calls == 3);
  // Docker was up at the first look, taken by the last cloud-init exec: no exec of its own.
  CHECK(rig.guests["10.0.0.11"].docker_calls == 1);
  CHECK(rig.guests["10.0.0.11"].commands.size() == 3);
  CHECK(rig.deployed == std::vector<std::string>{"vm1"});
  // The deploy is given the stages' SSH session: one connection for the whole wait.
  CHECK(rig.deployed_with_session == 1);
  CHECK(rig.connects == 1);
  CHECK(rig.events_of("vm1") ==
        std::vector<std::string>{
            "stage defined running", "stage defined done", "stage running running",
            "stage running done", "stage address running", "stage address done",
            "stage ssh running", "stage ssh done", "stage cloud-init done running",
            "stage cloud-init done done", "stage docker up running", "stage docker up done",
            "deploy stack running", "deploy stack done", "stage stack healthy running",
            "stage stack healthy done"});
  // Two polls of 1 s between the three cloud-init waits, on the fake clock.
  CHECK(results[0].seconds == Approx(2.0));
}

TEST_CASE("wait_ready: a stage that never completes fails at its own timeout", "[libvirt]") {
  Rig rig;
  rig.timeouts.stages.address = std::chrono::seconds(300);
  const model::Vm vm = vm_named("vm1", "10.0.0.11");
  rig.answers["10.0.0.11"] = false;
  const auto started = std::chrono::steady_clock::now();
  const auto results = rig.wait({&vm});
  REQUIRE(results.size() == 1);
  CHECK(results[0].reached == ready::Stage::running);
  CHECK(results[0].failed == ready::Stage::address);
  CHECK(results[0].message == "timed out after 300s: no answer from 10.0.0.11");
  CHECK(results[0].seconds >= 300.0);
  CHECK(results[0].seconds < 302.0);
  CHECK(rig.deployed.empty());
  CHECK(rig.events_of("vm1").back() == "stage address FAILED");
  // The 300 s passed on the fake clock only.
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(30));
}

TEST_CASE("wait_ready: a cloud-init traceback on the console fails the stage at once",
          "[libvirt]") {
  Rig rig;
  testing::ScratchDir dir("lct-wait");
  const auto log = dir.path() / "serial.log";
  std::ofstream(log) << "[    1.0] Run /sbin/init as init process\n";
  rig.deps.serial_log = [&](const model::Vm&) { return log.string(); };
  const model::Vm vm = vm_named("vm1", "10.0.0.11");
  rig.guests["10.0.0.11"].cloud_init = [&](int call) {
    if (call == 2) {
      std::ofstream(log, std::ios::app)
          << "Traceback (most recent call last):\n"
             "  File \"/usr/lib/python3/dist-packages/cloudinit/net/network_state.py\", line "
             "941, in _handle_individual_nameserver\nKeyError: 'ens2'\n";
    }
    return sys::ProcessResult{3, "cloud-init is still running", ""};
  };
  const auto results = rig.wait({&vm});
  REQUIRE(results.size() == 1);
  CHECK(results[0].failed == ready::Stage::cloud_init);
  CHECK(results[0].message == "the console shows a cloud-init traceback: KeyError: 'ens2'");
  CHECK(results[0].serial_tail.back() == "KeyError: 'ens2'");
  // Seen at the next poll after it was written, not at the 20-minute timeout.
  CHECK(rig.guests["10.0.0.11"].cloud_init_calls == 2);
  CHECK(results[0].seconds < 10.0);
}

TEST_CASE("wait_ready: cloud-init finished with errors is fatal, not retried", "[libvirt]") {
  Rig rig;
  const model::Vm vm = vm_named("vm1", "10.0.0.11");
  const std::string result =
      R"j({"v1": {"errors": ["('scripts_user', RuntimeError('runparts: 1 failed'))"]}})j";
  rig.guests["10.0.0.11"].cloud_init = [&](int) { return sys::ProcessResult{0, result, ""}; };
  const auto results = rig.wait({&vm});
  REQUIRE(results.size() == 1);
  CHECK(results[0].failed == ready::Stage::cloud_init);
  CHECK(results[0].message ==
        "cloud-init finished with errors: ('scripts_user', RuntimeError('runparts: 1 failed'))");
  CHECK(rig.guests["10.0.0.11"].cloud_init_calls == 1);
}

TEST_CASE("wait_ready: instances that cannot be read fail the stack stage at once", "[libvirt]") {
  Rig rig;
  const model::Vm vm = vm_named("vm1", "10.0.0.11");
  int asked = 0;
  rig.deps.instances = [&](const model::Vm&) -> Result<std::vector<model::Instance>> {
    ++asked;
    return Error::failure("/state/stt/state.json: not JSON");
  };
  const auto results = rig.wait({&vm});
  REQUIRE(results.size() == 1);
  CHECK(results[0].failed == ready::Stage::stack);
  CHECK(results[0].message == "/state/stt/state.json: not JSON");
  // Not the lab file's instances in its place, and not retried until the stage's timeout.
  CHECK(asked == 1);
  CHECK(results[0].seconds < 10.0);
}

TEST_CASE("wait_ready: Ctrl-C ends the wait at the stage in progress", "[libvirt]") {
  Rig rig;
  const model::Vm vm = vm_named("vm1", "10.0.0.11");
  rig.guests["10.0.0.11"].docker = [&](int call) {
    if (call == 2) {
      rig.stop = true;  // what the SIGINT handler does
    }
    return sys::ProcessResult{1, "curl: (7) Couldn't connect to server", ""};
  };
  const auto results = rig.wait({&vm});
  REQUIRE(results.size() == 1);
  CHECK(results[0].reached == ready::Stage::cloud_init);
  CHECK(results[0].failed == ready::Stage::docker);
  CHECK(results[0].message == "stopped by request");
  CHECK(rig.guests["10.0.0.11"].docker_calls == 2);
  CHECK(rig.deployed.empty());
}

TEST_CASE("wait_ready: one VM failing, the others go on to the stack", "[libvirt]") {
  Rig rig;
  rig.timeouts.stages.ssh = std::chrono::seconds(120);
  const model::Vm vm1 = vm_named("vm1", "10.0.0.11");
  const model::Vm vm2 = vm_named("vm2", "10.0.0.12");
  const model::Vm vm3 = vm_named("vm3", "10.0.0.13");
  rig.deps.connect = [&](const ready::SshTarget& target) -> Result<std::unique_ptr<sys::Shell>> {
    if (target.host == "10.0.0.11") {
      return Error::failure("Authentication failed (publickey)");
    }
    return std::unique_ptr<sys::Shell>(std::make_unique<FakeShell>(rig.guests.at(target.host)));
  };
  rig.healthy["10.0.0.13"] = false;
  rig.timeouts.stages.stack = std::chrono::seconds(60);
  const auto results = rig.wait({&vm1, &vm2, &vm3});
  REQUIRE(results.size() == 3);
  CHECK(results[0].failed == ready::Stage::ssh);
  CHECK(results[0].message == "timed out after 120s: Authentication failed (publickey)");
  CHECK(results[1].failed == ready::Stage::none);
  CHECK(results[1].reached == ready::Stage::stack);
  CHECK(results[2].failed == ready::Stage::stack);
  CHECK(results[2].message == "timed out after 60s: instance main does not answer on port 8081");
  std::sort(rig.deployed.begin(), rig.deployed.end());
  CHECK(rig.deployed == std::vector<std::string>{"vm2", "vm3"});
}

TEST_CASE("wait_ready: the first login waits while the console shows cloud-init at work",
          "[libvirt]") {
  Rig rig;
  testing::ScratchDir dir("lct-wait");
  const auto log = dir.path() / "serial.log";
  std::ofstream(log) << "[   97.3] cloud-init[301]: Cloud-init v. 22.4.2 running 'init' at Sat, 05 "
                        "Dec 2026 17:00:00 +0000. Up 97.30 seconds.\n";
  rig.deps.serial_log = [&](const model::Vm&) { return log.string(); };
  rig.timeouts.stages.ssh = std::chrono::seconds(300);
  const model::Vm vm = vm_named("vm1", "10.0.0.11");
  using std::chrono::seconds;
  // Appends `text` to the console when the fake clock reaches `at`.
  const auto console_at = [&](seconds at, std::string text) {
    rig.clock.on_sleep = [&log, at, text](std::chrono::steady_clock::duration since) {
      if (since == at) {
        std::ofstream(log, std::ios::app) << text;
      }
    };
  };
  // The VM brought to the stack over one connection: when that was opened.
  const auto first_login = [&] {
    const auto results = rig.wait({&vm});
    REQUIRE(results.size() == 1);
    CHECK(results[0].reached == ready::Stage::stack);
    CHECK(rig.connects == 1);
    return rig.first_connect_at;
  };

  SECTION("until its final message") {
    console_at(seconds(40),
               "[  140.1] cloud-init[702]: labctl: cd26-blue-vm1-1 up after 140.10 seconds\n");
    // Logged in at the first poll after the message, not before.
    CHECK(first_login() == seconds(40));
  }

  SECTION("at most until a minute before the ssh stage's deadline, then as before") {
    CHECK(first_login() == seconds(240));
  }

  SECTION("a failure on the console ends the wait, and the stage, at once") {
    console_at(seconds(20), "[  120.0] Kernel panic - not syncing: Fatal\n");
    const auto results = rig.wait({&vm});
    REQUIRE(results.size() == 1);
    CHECK(results[0].failed == ready::Stage::ssh);
    CHECK(results[0].message ==
          "the console shows a kernel panic: [  120.0] Kernel panic - not syncing: Fatal");
    CHECK(results[0].seconds < 30.0);
    CHECK(rig.connects == 0);
  }

  SECTION("a console that says nothing of cloud-init does not delay it") {
    std::ofstream(log) << "[    1.0] Run /sbin/init as init process\n"
                          "[  OK  ] Started ssh.service - OpenBSD Secure Shell server.\n";
    CHECK(first_login() == seconds(0));
  }
}
