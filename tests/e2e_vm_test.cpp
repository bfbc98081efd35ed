#include <unistd.h>

#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "provision/registry/client.hpp"
#include "provision/sys/live_process.hpp"
#include "provision/sys/process.hpp"
#include "tests/support/golden.hpp"
#include "tests/support/labctl_cli.hpp"
#include "tests/support/lan.hpp"
#include "tests/support/leftovers.hpp"
#include "tests/support/netns.hpp"
#include "tests/support/registry.hpp"
#include "tests/support/webdriver.hpp"

// End to end, through the labctl executable, on qemu:///system with real QEMU VMs under TCG:
// a one-team classroom of two VMs on a NAT network and an isolated switch is brought up
// (networks, pool, base image, overlays, seeds, domains); the VMs boot, cloud-init runs,
// Docker starts, two Squash TM stand-in instances of different versions answer on vm1's
// 8081 and 8082. Then addresses, the memory cap, SSH, the isolated switch, squash add/rm/ls,
// the restart policy, reset and down are checked. No Docker Hub here: the stand-in images are
// built on this host and pushed to a local registry standing in for Docker Hub (the
// upstream); the classroom registry that `up` starts caches it, and the VMs pull through it.
// Then: each image came from the upstream once for both VMs, a missing version is refused
// with the nearest tags, and offline, a bundle saved from the cache and loaded into a fresh
// cache brings vm1's stack back after a reset, with the upstream stopped.
// vm2 also has a NIC on a LAN the test stands in for (a bridge of its own with a dnsmasq,
// tests/lan.hpp): it takes its address from that DHCP, and status and the hand-out show it.
// The team's hand-out, written as a directory, is used as a student would: plain OpenSSH with
// its ssh_config, the team's key and the pinned host keys reaches both VMs.

namespace {

using namespace labctl;
using testing::DownOnExit;
using testing::LabctlCli;

namespace fs = std::filesystem;

constexpr const char* k_uri = "qemu:///system";

std::string lab_text(const std::string& classroom, const std::string& registry_address,
                     int registry_port, const std::string& upstream, const std::string& lan,
                     const std::string& access) {
  return fmt::format(R"(classroom: {}
access: {}
title: "labctl end-to-end test"
image:
  build: debian-12
  with: [docker]
accelerator: auto
docker: {{ source: preinstalled }}
registry: {{ address: {}, port: {}, upstream: "{}" }}
squashtm: {{ memory: 512MiB }}
defaults: {{ memory: 2GiB, vcpus: 1, disk: 4GiB }}
teams:
  names: [blue, green]
  # green: two small VMs without instances, to check what one team reaches of another's.
  overrides:
    green:
      vms:
        vm1: {{ memory: 1GiB, instances: [] }}
        vm2: {{ memory: 1GiB, instances: [] }}
template:
  networks:
    lan: {{ kind: nat, bridge_name: "{{classroom}}{{team_index}}{{net}}" }}
    lab: {{ kind: isolated, bridge_name: "{{classroom}}{{team_index}}{{net}}" }}
    campus: {{ kind: bridge, bridge: {} }}
  vms:
    vm1:
      networks: [lan, lab]
      instances:
        - {{ name: main, version: 6.0.0 }}
        - {{ name: old, version: 5.1.0, db: h2 }}
    vm2:
      instances:
        - {{ name: main, version: 6.0.0, db: h2 }}
)",
                     classroom, access, registry_address, registry_port, upstream, lan);
}

std::string virsh(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"virsh", "-q", "-c", k_uri};
  argv.insert(argv.end(), args.begin(), args.end());
  sys::SystemRunner runner;
  auto result = runner.run(argv);
  REQUIRE(result.ok());
  return result->out;
}

std::string http_get(const std::string& url) {
  sys::SystemRunner runner;
  auto result = runner.run({"curl", "-sS", "--max-time", "10", url});
  REQUIRE(result.ok());
  return result->out;
}

}  // namespace

namespace {

std::string must_ssh(const LabctlCli& labctl, const std::string& vm,
                     std::vector<std::string> command) {
  std::vector<std::string> args{"ssh", "blue", vm, "--"};
  args.insert(args.end(), command.begin(), command.end());
  const auto result = labctl.run(args);
  INFO(result.out << result.err);
  REQUIRE(result.exit_code == 0);
  return result.out;
}

nlohmann::json status_of(const LabctlCli& labctl) {
  const auto status = labctl.run({"status", "--json"});
  REQUIRE(status.exit_code == 0);
  return nlohmann::json::parse(status.out);
}

bool answers(const std::string& ip, int port, const std::string& version) {
  return http_get(fmt::format("http://{}:{}/squash/isSquashAlive", ip, port)).find(version) !=
         std::string::npos;
}

// Polls for at most `seconds`, once per 2 s.
bool eventually(int seconds, const std::function<bool()>& condition) {
  for (int i = 0; i < seconds / 2; ++i) {
    if (condition()) {
      return true;
    }
    ::sleep(2);
  }
  return condition();
}

void check_guests(const LabctlCli& labctl, const nlohmann::json& rows) {
  // Static addresses on the nat and isolated networks, as the lab expands them.
  const auto show = nlohmann::json::parse(labctl.run({"show", "blue", "--json"}).out);
  for (const auto& vm : show["vms"]) {
    const std::string addresses = must_ssh(labctl, vm["key"], {"ip", "-4", "-o", "addr"});
    for (const auto& nic : vm["nics"]) {
      if (nic["dhcp"] == true) {
        continue;  // the LAN's address: check_lan
      }
      CHECK(addresses.find(std::string(nic["ip"]) + "/24") != std::string::npos);
    }
  }
  // No NIC was renamed at boot (the image masks udev's naming policy): a rename racing
  // cloud-init's local stage once left a VM without its address (issue 13). The kernel logs
  // it as "virtio_net virtio0 ens2: renamed from eth0"; Docker's veth renames are not NICs.
  for (const auto& vm : show["vms"]) {
    std::istringstream kernel_log(must_ssh(labctl, vm["key"], {"sudo", "dmesg"}));
    for (std::string line; std::getline(kernel_log, line);) {
      INFO(line);
      CHECK_FALSE((line.find("virtio_net") != std::string::npos &&
                   line.find("renamed from") != std::string::npos));
    }
  }
  // The seed passes cloud-init's own schema (exit 1 and the errors otherwise); cloud-init is done.
  must_ssh(labctl, "vm1", {"sudo", "cloud-init", "schema", "--system"});
  CHECK(must_ssh(labctl, "vm2", {"cloud-init", "status"}).find("status: done") !=
        std::string::npos);
  // The 2 GiB cap, seen from inside: MemTotal is at most the cap.
  const std::string meminfo = must_ssh(labctl, "vm1", {"grep", "MemTotal", "/proc/meminfo"});
  const long kib = std::stol(meminfo.substr(meminfo.find_first_of("0123456789")));
  CHECK(kib > 1500L * 1024);
  CHECK(kib <= 2048L * 1024);
  // vm1 reaches vm2's SSH port over the isolated switch (the image has no ping).
  const std::string vm2_lab = show["vms"][1]["nics"][1]["ip"];
  must_ssh(labctl, "vm1",
           {"timeout", "10", "bash", "-c", fmt::format("'exec 3<>/dev/tcp/{}/22'", vm2_lab)});
  // Both VMs past `docker up`; vm1's instances healthy.
  CHECK(rows[1]["stage"] == "stack healthy");
  REQUIRE(rows[0]["instances"].size() == 2);
  for (const auto& instance : rows[0]["instances"]) {
    CHECK(instance["healthy"] == true);
  }
}

// `published`: the URL students use for the instance `squash add` makes here.
void check_squash(const LabctlCli& labctl, const std::string& ip, const std::string& published) {
  CHECK(answers(ip, 8081, "6.0.0"));
  CHECK(answers(ip, 8082, "5.1.0"));
  const auto add = labctl.run(
      {"squash", "add", "blue", "vm1", "--version", "6.1.0", "--name", "third", "--db", "h2"});
  REQUIRE(add.exit_code == 0);
  CHECK(add.out.find(published) != std::string::npos);
  CHECK(eventually(120, [&] { return answers(ip, 8083, "6.1.0"); }));
  const auto ls = labctl.run({"squash", "ls", "blue", "--json"});
  REQUIRE(ls.exit_code == 0);
  CHECK(ls.out.find(fmt::format("http://{}:8083/squash", ip)) != std::string::npos);

  const auto rm = labctl.run({"squash", "rm", "blue", "vm1", "old"});
  REQUIRE(rm.exit_code == 0);
  CHECK(http_get(fmt::format("http://{}:8082/squash/isSquashAlive", ip)).empty());
  CHECK(answers(ip, 8081, "6.0.0"));
  CHECK(answers(ip, 8083, "6.1.0"));

  // The restart policy: the server dying inside the container brings it back. The kill runs
  // detached (-d): the container stops under a foreground `docker exec`, which then ends 137.
  const std::string app =
      "$(docker ps -aq --filter label=labctl.instance=main --filter "
      "label=labctl.role=app)";
  must_ssh(labctl, "vm1",
           {"sudo", "sh", "-c", "'docker exec -d " + app + " sh -c \"kill \\$(pidof httpd)\"'"});
  CHECK(eventually(60, [&] {
    return must_ssh(labctl, "vm1",
                    {"sudo", "sh", "-c", "'docker inspect -f {{.RestartCount}} " + app + "'"}) !=
           "0\n";
  }));
  CHECK(eventually(60, [&] { return answers(ip, 8081, "6.0.0"); }));
}

// vm2's NIC on the test's LAN got its address from the LAN's DHCP (dnsmasq's lease for its
// MAC); the guest has it, status shows it, the hand-out shows it.
void check_lan(const LabctlCli& labctl, const testing::TestLan& lan) {
  const auto show = nlohmann::json::parse(labctl.run({"show", "blue", "--json"}).out);
  const auto& nic = show["vms"][1]["nics"][2];
  REQUIRE(nic["dhcp"] == true);
  std::string leased;
  CHECK(eventually(60, [&] { return !(leased = lan.lease_of(nic["mac"])).empty(); }));
  INFO("lease " << leased);
  CHECK(lan.in_range(leased));
  CHECK(must_ssh(labctl, "vm2", {"ip", "-4", "-o", "addr", "show", "eth2"}).find(leased + "/24") !=
        std::string::npos);
  const auto rows = status_of(labctl);
  CHECK(rows[1]["networks"][2] ==
        nlohmann::json({{"network", "campus"}, {"ip", leased}, {"dhcp", true}}));
  const auto sheet = labctl.run({"handout", "blue"});
  CHECK(sheet.out.find("campus " + leased) != std::string::npos);
}

// OpenSSH on the student's machine (the namespace `ns`), run in the folder `dir` of a team's
// hand-out.
sys::ProcessResult student_ssh(const std::string& ns, const fs::path& dir,
                               const std::vector<std::string>& args) {
  std::vector<std::string> argv{
      "ip", "netns", "exec", ns, "ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10"};
  argv.insert(argv.end(), args.begin(), args.end());
  sys::ProcessOptions options;
  options.cwd = dir.string();
  auto done = sys::SystemRunner().run(argv, options);
  REQUIRE(done.ok());
  INFO(done->out << done->err);
  return *done;
}

// One team's key against the other team's VM (its published SSH port): refused.
void check_refused(const std::string& ns, const fs::path& dir, const fs::path& key,
                   const std::string& host, int port) {
  const auto refused =
      student_ssh(ns, dir,
                  {"-F", "/dev/null", "-o", "IdentitiesOnly=yes", "-i", key.string(), "-o",
                   "UserKnownHostsFile=known_hosts", "-o", "StrictHostKeyChecking=yes", "-p",
                   std::to_string(port), "student@" + host, "hostname"});
  INFO(refused.out << refused.err);
  CHECK(refused.exit_code == 255);
  CHECK(refused.err.find("Permission denied") != std::string::npos);
}

// The hand-outs as students use them: on the student's machine (the namespace `ns`), from a
// team's folder, OpenSSH with its files alone, through the published SSH ports (blue's vm1 at
// `first` + 101, green's at + 201). Each team's key is refused on the other team's VMs.
void check_handout(const LabctlCli& labctl, const fs::path& scratch, const std::string& classroom,
                   const std::string& ns, const std::string& host, int first) {
  for (const char* team : {"blue", "green"}) {
    const auto written = labctl.run({"handout", team, "--out", (scratch / "out").string()});
    INFO(written.out << written.err);
    REQUIRE(written.exit_code == 0);
  }
  const fs::path blue = scratch / "out" / (classroom + "-blue");
  const fs::path green = scratch / "out" / (classroom + "-green");
  for (const auto& [dir, team] : {std::pair{blue, "blue"}, std::pair{green, "green"}}) {
    for (const char* vm : {"vm1", "vm2"}) {
      const auto ssh = student_ssh(ns, dir, {"-F", "ssh_config", vm, "hostname"});
      CHECK(ssh.exit_code == 0);
      CHECK(ssh.out == std::string(team) + "-" + vm + "\n");
    }
  }
  check_refused(ns, blue, green / "green.key", host, first + 101);
  check_refused(ns, green, blue / "blue.key", host, first + 201);
  // The team's key is all the VM accepts besides the classroom's.
  CHECK(must_ssh(labctl, "vm1", {"wc", "-l", "<", ".ssh/authorized_keys"}) == "2\n");
}

}  // namespace

namespace {

// Docker Hub's stand-in: a plain registry on loopback holding the stand-in images, built on
// this host by build-standin. The images it tagged in the host's Docker go with it.
struct Upstream {
  testing::TestRegistry registry;
  std::string build_error;  // "" when the images were built and pushed

  explicit Upstream(const std::vector<std::string>& versions) {
    if (const std::string why = registry.start(); !why.empty()) {
      build_error = why;
      return;
    }
    std::vector<std::string> argv{
        (testing::source_dir() / "stacks/squashtm/standin/build-standin").string(), "--push",
        fmt::format("127.0.0.1:{}", registry.port())};
    argv.insert(argv.end(), versions.begin(), versions.end());
    sys::SystemRunner runner;
    auto built = runner.run(argv);
    if (!built || built->exit_code != 0) {
      build_error = built ? built->err : built.error().message;
    }
  }
  // GETs of each blob of repository:tag that reached this registry and succeeded.
  std::map<std::string, int> blob_fetches(const std::string& repository, const std::string& tag) {
    registry::CurlTransport transport;
    registry::Client client(transport, registry.url());
    auto ref = registry::parse_reference(repository + ":" + tag);
    REQUIRE(ref.ok());
    auto image = client.image(*ref);
    REQUIRE(image.ok());
    std::map<std::string, int> counts;
    std::vector<registry::Descriptor> blobs{image->config};
    blobs.insert(blobs.end(), image->layers.begin(), image->layers.end());
    for (const registry::Descriptor& blob : blobs) {
      counts[blob.digest] =
          registry.settled_count("GET", "/v2/" + repository + "/blobs/" + blob.digest, 2);
    }
    return counts;
  }
};

// A host-only address for the test's classroom registry, unlike the default one.
std::string registry_address() {
  std::random_device random;
  return fmt::format("10.255.{}.1", 1 + random() % 250);
}

void check_cache(const LabctlCli& labctl, Upstream& upstream) {
  const auto status = labctl.run({"registry", "status", "--json"});
  INFO(status.out << status.err);
  REQUIRE(status.exit_code == 0);
  const auto registry_state = nlohmann::json::parse(status.out);
  CHECK(registry_state["health"] == "healthy");
  CHECK(registry_state["upstream"] == upstream.registry.url());
  // Both VMs run 6.0.0, and each of its blobs came from the upstream once: one cache miss,
  // which docker-registry 2.8 serves with two GETs (one streams to the client, one goes to
  // its storage). Once per VM would be four.
  for (const auto& [digest, gets] : upstream.blob_fetches("squashtest/squash-tm", "6.0.0")) {
    INFO(digest);
    CHECK(gets == 2);
  }
  const auto ls = labctl.run({"images", "ls", "--json"});
  INFO(ls.out << ls.err);
  REQUIRE(ls.exit_code == 0);
  const auto cached = nlohmann::json::parse(ls.out);
  bool found = false;
  for (const auto& image : cached["cached"]) {
    if (image["image"] == "squashtest/squash-tm:6.0.0") {
      found = true;
      CHECK(image["complete"] == true);
      CHECK(image["users"] == nlohmann::json::array({"blue/vm1/main", "blue/vm2/main"}));
    }
  }
  CHECK(found);
  CHECK(cached["missing"].empty());
}

// A version no registry has is refused before the VM is touched, with the nearest tags; the
// VM's instances go on.
void check_missing_version(const LabctlCli& labctl, const std::string& ip) {
  const auto bad = labctl.run(
      {"squash", "add", "blue", "vm1", "--version", "1.7.4", "--name", "bad", "--db", "h2"});
  INFO(bad.out << bad.err);
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("squashtest/squash-tm:1.7.4 does not exist") != std::string::npos);
  CHECK(bad.err.find("5.1.0") != std::string::npos);
  CHECK(answers(ip, 8081, "6.0.0"));
  CHECK(answers(ip, 8083, "6.1.0"));
}

// The instructor's console (`labctl serve`, the executable) in a real browser: blue's
// instances with their health; an instance added from the form answers and shows healthy,
// then removed after the confirmation, it stops answering. The page's screenshot for docs/.
void check_console(const LabctlCli& labctl, const std::string& ip) {
  if (auto missing = testing::browser_missing()) {
    FAIL("no browser for the console: " << *missing);
  }
  std::random_device random;
  const std::string listen = fmt::format("127.0.0.1:{}", 21000 + random() % 8000);
  const auto url = labctl.run({"serve", "--listen", listen, "--print-url"});
  REQUIRE(url.exit_code == 0);
  const std::string login = url.out.substr(0, url.out.find('\n'));
  auto serve =
      sys::start_live_process(labctl.command({"serve", "--listen", listen, "--refresh", "2"}));
  REQUIRE(serve.ok());
  std::string out, err;
  CHECK(eventually(30, [&] {
    (*serve)->read(out, err, std::chrono::steady_clock::now() + std::chrono::milliseconds(100));
    return !http_get(fmt::format("http://{}/login", listen)).empty();
  }));
  INFO("serve: " << out << err);
  auto started = testing::Browser::start();
  REQUIRE(started.ok());
  testing::Browser& browser = **started;
  REQUIRE(browser.go(login).ok());
  const auto has = [&](const std::string& css) {
    return "document.querySelector(\"" + css + "\") !== null";
  };
  const std::string vm1 = "tr[data-vm='blue/vm1'] ";
  CHECK(browser.wait_for(has(vm1 + "li[data-instance='main'] .healthy"), std::chrono::seconds(60))
            .ok());

  const std::string form = vm1 + "form.add";
  REQUIRE(browser.select(form + " select.version", "6.1.0").ok());
  REQUIRE(browser.select(form + " select.db", "h2").ok());  // blue's vm1 has room for h2 only
  REQUIRE(browser.type(form + " input.name", "web").ok());
  REQUIRE(browser.click(form + " button.do-add").ok());
  auto added =
      browser.wait_for(has(vm1 + "li[data-instance='web'] .healthy"), std::chrono::seconds(300));
  INFO("actions: " << browser.text("#actions").value());
  CHECK(added.ok());
  CHECK(answers(ip, 8082, "6.1.0"));
  CHECK(browser.set_window(1400, 1000).ok());
  CHECK(browser.screenshot(fs::path(LABCTL_BINARY_DIR) / "console-e2e.png").ok());

  REQUIRE(browser.click(vm1 + "li[data-instance='web'] button.do-remove").ok());
  CHECK(browser.accept_dialog().ok());
  CHECK(browser
            .wait_for("document.querySelector(\"" + vm1 + "li[data-instance='web']\") === null",
                      std::chrono::seconds(180))
            .ok());
  CHECK(http_get(fmt::format("http://{}:8082/squash/isSquashAlive", ip)).empty());
  CHECK(answers(ip, 8081, "6.0.0"));
}

// Offline: the cache saved to a bundle, the upstream stopped, a fresh cache loaded from the
// bundle; vm1 reset to its first boot pulls its stack from that cache alone.
void check_offline(const LabctlCli& labctl, Upstream& upstream, const fs::path& scratch,
                   const std::string& ip) {
  const std::string bundle = (scratch / "images.tar").string();
  const auto save = labctl.run({"images", "save", bundle});
  INFO(save.out << save.err);
  REQUIRE(save.exit_code == 0);
  REQUIRE(labctl.run({"registry", "stop"}).exit_code == 0);
  upstream.registry.stop();
  fs::remove_all(scratch / "registry-cache" / "registry" / "data");
  const auto load = labctl.run({"images", "load", bundle});
  INFO(load.out << load.err);
  REQUIRE(load.exit_code == 0);
  const auto start = labctl.run({"registry", "start", "--offline"});
  INFO(start.out << start.err);
  REQUIRE(start.exit_code == 0);
  const auto reset = labctl.run({"reset", "blue", "vm1"});
  INFO(reset.out << reset.err);
  REQUIRE(reset.exit_code == 0);
  CHECK(answers(ip, 8081, "6.0.0"));
  CHECK(answers(ip, 8083, "6.1.0"));
  CHECK(http_get(fmt::format("http://{}:8082/squash/isSquashAlive", ip)).empty());
}

}  // namespace

namespace {

// A student's machine on the classroom's LAN: a namespace joined by a veth to a bridge this
// test makes, with the host's address .1 on it (the lab's access.listen) and the student .2.
// Removed at the end, whatever happens.
struct StudentNet {
  std::string ns;
  std::string bridge;
  std::string net;  // "10.252.N"

  explicit StudentNet(int n)
      : ns(fmt::format("lcte2e{}-st", n)),
        bridge(fmt::format("lcte2e{}s", n)),
        net(fmt::format("10.252.{}", n)) {}
  ~StudentNet() { testing::remove_namespace_and_bridge(ns, bridge); }
  void build() const { testing::namespace_on_bridge(ns, bridge, net); }
  std::string listen() const { return net + ".1"; }
  // What the student reads: an HTTP body, or the first line a TCP server sends.
  std::string get(const std::string& url) const {
    auto got = sys::SystemRunner().run(
        {"ip", "netns", "exec", ns, "curl", "-sS", "--max-time", "10", url});
    REQUIRE(got.ok());
    return got->out;
  }
  std::string banner(const std::string& address, int port) const {
    auto got = sys::SystemRunner().run(
        {"ip", "netns", "exec", ns, "python3", "-c",
         "import socket, sys\ntry:\n  s = socket.create_connection((sys.argv[1], "
         "int(sys.argv[2])), timeout=5)\n  s.settimeout(5)\n  "
         "print(s.recv(64).decode().strip())\nexcept OSError:\n  pass\n",
         address, std::to_string(port)});
    REQUIRE(got.ok());
    return got->out;
  }
};

std::string nat_rules() {
  auto listed = sys::SystemRunner().run({"iptables", "-w", "-t", "nat", "-S", "PREROUTING"});
  REQUIRE(listed.ok());
  return listed->out;
}

// Students' access: blue vm1's instances and SSH through the host's published ports, from
// the student's machine; its private address is not reachable from there.
void check_access(const LabctlCli& labctl, const StudentNet& student, int first,
                  const std::string& ip) {
  const auto rows = status_of(labctl);
  const std::string url = fmt::format("http://{}:{}/squash", student.listen(), first + 111);
  CHECK(rows[0]["instances"][0]["published_url"] == url);
  CHECK(rows[0]["ssh"]["port"] == first + 101);
  CHECK(eventually(
      30, [&] { return student.get(url + "/isSquashAlive").find("6.0.0") != std::string::npos; }));
  CHECK(student.get(fmt::format("http://{}:{}/squash/isSquashAlive", student.listen(), first + 121))
            .find("5.1.0") != std::string::npos);
  CHECK(student.banner(student.listen(), first + 101).starts_with("SSH-2.0"));
  CHECK(student.get(fmt::format("http://{}:8081/squash/isSquashAlive", ip)).empty());
}

// libvirtd restarted re-adds its REJECTs ahead of labctl's accept rules: the endpoint stops
// answering, `plan` says so, and `up` repairs it. The VMs run on (QEMU outlives libvirtd).
void check_libvirtd_restart(const LabctlCli& labctl, const StudentNet& student, int first) {
  const std::string url =
      fmt::format("http://{}:{}/squash/isSquashAlive", student.listen(), first + 111);
  testing::must_run({"sh", "-c",
                     "kill $(cat /run/libvirtd.pid) && for i in $(seq 30); do "
                     "[ -e /proc/$(cat /run/libvirtd.pid 2>/dev/null)/exe ] || exit 0; sleep 1; "
                     "done; exit 1"});
  // The new daemon must not inherit this process's descriptors (Catch's output, ctest's pipe,
  // a lock): it outlives the test. Closed before the exec, its stdio on /dev/null, own session.
  testing::must_run({"setsid", "python3", "-c",
                     "import os\nfd = os.open('/dev/null', os.O_RDWR)\n"
                     "for i in (0, 1, 2):\n  os.dup2(fd, i)\nos.closerange(3, 65536)\n"
                     "os.execvp('libvirtd', ['libvirtd', '-d'])\n"});
  CHECK(eventually(30, [] {
    return sys::SystemRunner().run({"virsh", "-c", k_uri, "version"})->exit_code == 0;
  }));
  const auto plan = labctl.run({"plan", "blue"});
  INFO(plan.out << plan.err);
  CHECK(plan.out.find("access") != std::string::npos);
  CHECK(student.get(url).empty());
  const auto up = labctl.run({"up", "blue"});
  INFO(up.out << up.err);
  REQUIRE(up.exit_code == 0);
  CHECK(eventually(30, [&] { return student.get(url).find("6.0.0") != std::string::npos; }));
}

// `down green`: green's endpoints close and its rules go; blue's still answer. The rest of
// the test runs on blue alone.
void check_down_other_team(const LabctlCli& labctl, const StudentNet& student, int first,
                           const std::string& classroom) {
  CHECK(student.banner(student.listen(), first + 201).starts_with("SSH-2.0"));
  const auto down = labctl.run({"down", "green", "--yes"});
  INFO(down.out << down.err);
  REQUIRE(down.exit_code == 0);
  CHECK(student.banner(student.listen(), first + 201).empty());
  CHECK(nat_rules().find("labctl:" + classroom + ":green:") == std::string::npos);
  CHECK(student.banner(student.listen(), first + 101).starts_with("SSH-2.0"));
  CHECK(student.get(fmt::format("http://{}:{}/squash/isSquashAlive", student.listen(), first + 111))
            .find("6.0.0") != std::string::npos);
}

}  // namespace

TEST_CASE("a real team, up to its Squash TM instances, reset and down again", "[vm][e2e]") {
  if (const std::string why = testing::TestRegistry::skip_reason(); !why.empty()) {
    FAIL("no registry for the classroom's images: " << why);
  }
  labctl::testing::ScratchDir scratch("lct-e2e");
  const std::string classroom = testing::unique_classroom("e2e");
  Upstream upstream({"5.1.0", "6.0.0", "6.1.0"});
  INFO(upstream.build_error);
  REQUIRE(upstream.build_error.empty());
  std::random_device random;
  const int registry_port = 20000 + static_cast<int>(random() % 9000);
  const testing::TestLan lan(scratch.path());
  INFO(lan.error());
  REQUIRE(lan.error().empty());
  const StudentNet student(1 + static_cast<int>(random() % 250));
  student.build();
  const int first_port = 30000 + static_cast<int>(random() % 9) * 1000;
  const std::string access =
      fmt::format("{{ host: {}, listen: {}, ports: {}-{}, ssh: true }}", student.listen(),
                  student.listen(), first_port, first_port + 999);
  std::ofstream(scratch.path() / "lab.yaml") << lab_text(
      classroom, registry_address(), registry_port, upstream.registry.url(), lan.bridge(), access);
  // Versions are resolved on the lab's registries, not on the closed port tests default to.
  const LabctlCli labctl(scratch.path(),
                         {.global_args = {"--connect", k_uri},
                          .env = {{"LABCTL_REGISTRY", ""}, {"LABCTL_UPSTREAM", ""}}});
  DownOnExit teardown{labctl};

  const auto up = labctl.run({"up", "--all"});
  INFO(up.out << up.err);
  REQUIRE(up.exit_code == 0);
  for (const char* vm : {"vm1", "vm2"}) {
    CHECK(virsh({"domstate", classroom + "-blue-" + vm}).find("running") != std::string::npos);
  }
  // Under TCG, the four VMs' 4 vCPUs on fewer cores: starts waited for the boots before them
  // (README, "Boot order under TCG").
  if (up.err.find("accelerator qemu") != std::string::npos &&
      std::thread::hardware_concurrency() < 4) {
    CHECK(up.err.find("waits for the VMs booting before it") != std::string::npos);
  }
  const auto rows = status_of(labctl);
  REQUIRE(rows.size() == 4);
  REQUIRE(rows[0]["team"] == "blue");
  REQUIRE(rows[1]["team"] == "blue");
  const std::string ip = rows[0]["ip"];
  check_guests(labctl, rows);
  check_lan(labctl, lan);
  check_access(labctl, student, first_port, ip);
  check_handout(labctl, scratch.path(), classroom, student.ns, student.listen(), first_port);
  check_down_other_team(labctl, student, first_port, classroom);
  check_cache(labctl, upstream);
  // The instance `squash add` makes is published too: its slot was forwarded from the start.
  const std::string third = fmt::format("http://{}:{}/squash", student.listen(), first_port + 131);
  check_squash(labctl, ip, third);
  CHECK(eventually(30, [&] {
    return student.get(third + "/isSquashAlive").find("6.1.0") != std::string::npos;
  }));
  CHECK(labctl.run({"squash", "ls", "blue", "--json"}).out.find(third) != std::string::npos);
  check_missing_version(labctl, ip);
  check_console(labctl, ip);

  // Converged: a plan has nothing left to do for blue.
  const auto plan = labctl.run({"plan", "blue"});
  CHECK(plan.exit_code == 0);
  CHECK(plan.out.find("Nothing to do") != std::string::npos);

  // Before the offline part: its cache lacks the version of the instance removed above,
  // which `up` would refuse.
  check_libvirtd_restart(labctl, student, first_port);
  check_offline(labctl, upstream, scratch.path(), ip);

  // A rule named like labctl's, of another identity, survives `down --all`; labctl's go.
  const std::string lookalike = fmt::format(
      "-d {}/32 -p tcp --dport {} -m comment --comment labctl:{}:blue:beef:1 -j "
      "DNAT --to-destination {}:8081",
      student.listen(), first_port + 999, classroom, ip);
  testing::must_run({"sh", "-c", "iptables -w -t nat -A PREROUTING " + lookalike});
  labctl::testing::check_down_leaves_nothing(labctl, teardown, k_uri, classroom);
  const std::string left = nat_rules();
  CHECK(left.find(fmt::format("labctl:{}:blue:beef:1", classroom)) != std::string::npos);
  testing::must_run({"sh", "-c", "iptables -w -t nat -D PREROUTING " + lookalike});
  CHECK(nat_rules().find("labctl:" + classroom + ":") == std::string::npos);
  // The last classroom's `down --all` stopped the registry; its cache stays.
  const auto after = labctl.run({"registry", "status", "--json"});
  REQUIRE(after.exit_code == 0);
  CHECK(nlohmann::json::parse(after.out)["running"] == false);
}
