#include "provision/ready/console.hpp"

#include <fstream>

#include <catch2/catch.hpp>

#include "tests/support/golden.hpp"

using namespace labctl;

namespace {

void append(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::app | std::ios::binary) << text;
}

}  // namespace

TEST_CASE("failure_sign knows a panic, a traceback and a failed cloud-init unit", "[unit]") {
  CHECK(ready::failure_sign("[    5.1] Kernel panic - not syncing: Attempted to kill init!") ==
        "kernel panic");
  CHECK(ready::failure_sign("Traceback (most recent call last):") == "cloud-init traceback");
  CHECK(ready::failure_sign("[FAILED] Failed to start \x1b[0;1;39mlabctl-cloud-init.service") ==
        "cloud-init unit failed");
  CHECK(ready::failure_sign("[  OK  ] Started labctl-cloud-init.service").empty());
  CHECK(ready::failure_sign("[FAILED] Failed to start apt-daily.service").empty());
  CHECK(ready::failure_sign("Cloud-init v. 22.4.2 finished at ...").empty());
}

TEST_CASE("ConsoleWatch reads a growing serial log and stops at the first failure", "[unit]") {
  testing::ScratchDir dir("lct-console");
  const auto log = dir.path() / "serial.log";
  ready::ConsoleWatch watch(log.string());

  SECTION("no log yet, then a clean boot: nothing") {
    CHECK_FALSE(watch.poll());
    append(log, "[    1.0] virtio_net virtio0 eth0: ok\r\n[  OK  ] Started ssh.service\r\n");
    CHECK_FALSE(watch.poll());
  }

  SECTION("the boot race of issue 13: a traceback, its frames and its error") {
    append(log, "line a\nline b\nline c\nline d\nTraceback (most recent call");
    CHECK_FALSE(watch.poll());  // half a line is not yet a line
    append(log,
           " last):\n  File \"/usr/lib/python3/dist-packages/cloudinit/net/network_state.py\", "
           "line 941, in _handle_individual_nameserver\n    iface = self._network_state"
           "['interfaces'][name]\nKeyError: 'ens2'\n[  OK  ] Reached target multi-user\n");
    const auto failure = watch.poll();
    REQUIRE(failure);
    CHECK(failure->what == "cloud-init traceback");
    CHECK(failure->summary == "KeyError: 'ens2'");
    CHECK(failure->lines.front() == "line b");  // three lines of context
    CHECK(failure->lines[3] == "Traceback (most recent call last):");
    CHECK(failure->lines.back() == "[  OK  ] Reached target multi-user");
    // The first failure stays the answer.
    append(log, "Kernel panic - not syncing: later\n");
    CHECK(watch.poll()->summary == "KeyError: 'ens2'");
  }

  SECTION("a kernel panic") {
    append(log, "[    5.20] Kernel panic - not syncing: Attempted to kill init! exitcode=0x100\n");
    const auto failure = watch.poll();
    REQUIRE(failure);
    CHECK(failure->what == "kernel panic");
    CHECK(failure->summary.find("Attempted to kill init!") != std::string::npos);
  }

  SECTION("a new log (the VM started again) is read from its start") {
    append(log, std::string(4000, 'x') + "\n");
    CHECK_FALSE(watch.poll());
    std::ofstream(log, std::ios::trunc) << "Kernel panic - not syncing: VFS\n";
    REQUIRE(watch.poll());
  }
}

TEST_CASE("cloud_init_sign knows a stage starting and the final message", "[unit]") {
  using ready::CloudInit;
  CHECK(ready::cloud_init_sign("[   80.9] cloud-init[211]: Cloud-init v. 22.4.2 running "
                               "'init-local' at Sat, 05 Dec 2026 17:00:00 +0000. Up 80.90 "
                               "seconds.") == CloudInit::running);
  CHECK(ready::cloud_init_sign("Cloud-init v. 22.4.2 running 'modules:final' at ...") ==
        CloudInit::running);
  CHECK(ready::cloud_init_sign("Cloud-init v. 22.4.2 finished at Sat, 05 Dec 2026. Datasource "
                               "DataSourceNoCloud.  Up 140.40 seconds") == CloudInit::finished);
  CHECK(ready::cloud_init_sign("[  155.5] cloud-init[702]: labctl: cd26-team1-vm1-3f2a9c1d up "
                               "after 155.50 seconds") == CloudInit::finished);
  CHECK(ready::cloud_init_sign("[  OK  ] Started labctl-cloud-init.service") == CloudInit::silent);
  CHECK(ready::cloud_init_sign("labctl-ready cd26-team1-vm1-3f2a9c1d-2") == CloudInit::silent);
}

TEST_CASE("ConsoleWatch follows what the console last said of cloud-init", "[unit]") {
  using ready::CloudInit;
  testing::ScratchDir dir("lct-console");
  const auto log = dir.path() / "serial.log";
  ready::ConsoleWatch watch(log.string());
  watch.poll();
  CHECK(watch.cloud_init() == CloudInit::silent);
  append(log, "Cloud-init v. 22.4.2 running 'init-local' at x. Up 80.9 seconds.\n");
  watch.poll();
  CHECK(watch.cloud_init() == CloudInit::running);
  CHECK_FALSE(watch.final_stage());
  append(log, "Cloud-init v. 22.4.2 running 'modules:final' at x. Up 120.2 seconds.\n");
  watch.poll();
  CHECK(watch.cloud_init() == CloudInit::running);
  CHECK(watch.final_stage());
  append(log, "labctl: cd26-team1-vm1-1 up after 140.4 seconds\n[  OK  ] Reached target\n");
  watch.poll();
  CHECK(watch.cloud_init() == CloudInit::finished);
  CHECK(watch.final_stage());
  // A reboot in the same QEMU: the log goes on, cloud-init starts its stages again.
  append(log, "Cloud-init v. 22.4.2 running 'init-local' at y. Up 20.1 seconds.\n");
  watch.poll();
  CHECK(watch.cloud_init() == CloudInit::running);
  CHECK_FALSE(watch.final_stage());
  append(log, "Cloud-init v. 22.4.2 running 'modules:final' at y. Up 60.0 seconds.\n");
  watch.poll();
  CHECK(watch.final_stage());
  // A new start of the VM: a new log, read from its start.
  std::ofstream(log, std::ios::trunc) << "[    1.0] Linux version 6.1\n";
  watch.poll();
  CHECK(watch.cloud_init() == CloudInit::silent);
  CHECK_FALSE(watch.final_stage());
}
