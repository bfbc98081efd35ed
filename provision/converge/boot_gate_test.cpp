#include "provision/converge/boot_gate.hpp"

#include <fstream>
#include <map>

#include <catch2/catch.hpp>

#include "tests/support/fake_clock.hpp"
#include "tests/support/golden.hpp"

using namespace labctl;
using namespace std::chrono_literals;
using converge::BootGate;

namespace {

model::Vm vm_named(const std::string& key, int vcpus) {
  model::Vm vm;
  vm.key = key;
  vm.team = "t1";
  vm.name = "bg-t1-" + key;
  vm.vcpus = vcpus;
  return vm;
}

// A gate on a fake clock whose VMs' consoles are files in a scratch directory; `started`
// lists the starts in order with the fake time each happened at.
struct Fixture {
  testing::ScratchDir dir{"lct-bootgate"};
  testing::FakeClock clock;
  sys::RecordingReporter reporter;
  std::atomic<bool> stop{false};
  std::map<std::string, bool> running;
  std::vector<std::pair<std::string, std::chrono::steady_clock::duration>> started;

  std::filesystem::path log(const model::Vm& vm) const { return dir.path() / (vm.key + ".log"); }
  void say(const model::Vm& vm, const std::string& line) const {
    std::ofstream(log(vm), std::ios::app) << line << "\n";
  }
  BootGate gate(int cores) {
    BootGate::Settings settings;
    settings.cores = cores;
    settings.clock = &clock;
    settings.stop = &stop;
    settings.serial_log = [this](const model::Vm& vm) { return log(vm).string(); };
    settings.running = [this](const model::Vm& vm) {
      return !running.contains(vm.key) || running[vm.key];
    };
    return BootGate(std::move(settings), reporter);
  }
  // Two VMs of 2 vCPUs on a host of 2 cores: one boots at a time.
  const model::Vm vm1 = vm_named("vm1", 2);
  const model::Vm vm2 = vm_named("vm2", 2);
  BootGate two_cores = gate(2);

  Status start(const model::Vm& vm, Status result = {}) {
    return two_cores.start(vm, [&] {
      if (result) {
        // The VM's console starts empty: QEMU truncates the log when it starts.
        std::ofstream(log(vm), std::ios::trunc) << "[    0.0] Linux version 6.1\n";
        started.emplace_back(vm.key, clock.now() - std::chrono::steady_clock::time_point{});
      }
      return result;
    });
  }
};

}  // namespace

TEST_CASE("BootGate::needed: only when the VMs' vCPUs exceed the host's cores", "[unit]") {
  CHECK_FALSE(BootGate::needed(2, 2));
  CHECK(BootGate::needed(2, 3));
  CHECK(BootGate::needed(2, 8));
  CHECK_FALSE(BootGate::needed(0, 8));  // a host that does not say
}

TEST_CASE(
    "BootGate: a VM starts once the one booting before it reached cloud-init's final "
    "stage",
    "[unit]") {
  Fixture f;
  REQUIRE(f.start(f.vm1));
  // vm1's boot: its first stages at 20 s, its final stage at 30 s.
  f.clock.on_sleep = [&](auto at) {
    if (at == 20s) {
      f.say(f.vm1, "Cloud-init v. 22.4.2 running 'init' at x. Up 20.0 seconds.");
    }
    if (at == 30s) {
      f.say(f.vm1, "Cloud-init v. 22.4.2 running 'modules:final' at x. Up 30.0 seconds.");
    }
  };
  REQUIRE(f.start(f.vm2));
  REQUIRE(f.started.size() == 2);
  CHECK(f.started[0].second == 0s);
  CHECK(f.started[1].second == 30s);
  // The wait was said once, on the VM that waited.
  int said = 0;
  for (const auto& e : f.reporter.events()) {
    if (e.subject == "start vm bg-t1-vm2" && e.state == sys::EventState::info) {
      ++said;
      CHECK(e.message.find("2 cores") != std::string::npos);
    }
  }
  CHECK(said == 1);
}

TEST_CASE("BootGate: VMs boot together while their vCPUs fit the cores", "[unit]") {
  Fixture f;
  const model::Vm a = vm_named("vm1", 1);
  const model::Vm b = vm_named("vm2", 1);
  const model::Vm c = vm_named("vm3", 1);
  REQUIRE(f.start(a));
  REQUIRE(f.start(b));
  f.clock.on_sleep = [&](auto at) {
    if (at == 45s) {
      f.say(b, "labctl: bg-t1-vm2-1 up after 44.0 seconds");
    }
  };
  REQUIRE(f.start(c));
  REQUIRE(f.started.size() == 3);
  CHECK(f.started[1].second == 0s);
  CHECK(f.started[2].second == 45s);
}

TEST_CASE("BootGate: a VM larger than the host starts when nothing else boots", "[unit]") {
  Fixture f;
  REQUIRE(f.start(vm_named("big", 4)));
  CHECK(f.started.size() == 1);
}

TEST_CASE(
    "BootGate: a boot stops holding the others back at a failure, when the VM stops, or "
    "after the bound",
    "[unit]") {
  Fixture f;
  REQUIRE(f.start(f.vm1));
  std::chrono::seconds expected{};
  SECTION("a kernel panic on its console") {
    f.clock.on_sleep = [&](auto at) {
      if (at == 12s) {
        f.say(f.vm1, "[   12.0] Kernel panic - not syncing: VFS: Unable to mount root fs");
      }
    };
    expected = 12s;
  }
  SECTION("the VM is no longer running") {
    f.clock.on_sleep = [&](auto at) {
      if (at == 7s) {
        f.running["vm1"] = false;
      }
    };
    expected = 7s;
  }
  SECTION("a console that never speaks of cloud-init: the bound (120 s)") {
    expected = 120s;
  }
  REQUIRE(f.start(f.vm2));
  REQUIRE(f.started.size() == 2);
  CHECK(f.started[1].second == expected);
}

TEST_CASE("BootGate: a start that fails leaves its room; a stop request ends a wait", "[unit]") {
  Fixture f;
  const model::Vm vm3 = vm_named("vm3", 2);
  const Status failed = f.start(f.vm1, Error::failure("no such domain"));
  REQUIRE_FALSE(failed);
  CHECK(failed.error().message == "no such domain");
  REQUIRE(f.start(f.vm2));  // at once: vm1 holds no room
  CHECK(f.started.back().second == 0s);
  f.clock.on_sleep = [&](auto at) {
    if (at == 5s) {
      f.stop = true;
    }
  };
  const Status stopped = f.start(vm3);
  REQUIRE_FALSE(stopped);
  CHECK(stopped.error().message.find("stopped by request") != std::string::npos);
  CHECK(f.started.size() == 1);
}
