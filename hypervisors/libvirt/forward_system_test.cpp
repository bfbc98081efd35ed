#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <catch2/catch.hpp>

#include "hypervisors/libvirt/forward.hpp"
#include "provision/sys/live_process.hpp"
#include "provision/sys/process.hpp"
#include "tests/support/netns.hpp"

// Students' access through the real kernel, without a VM: a network namespace with a tiny
// TCP listener stands in for a VM on a bridge (behind a chain that REJECTs inbound traffic,
// as libvirt's LIBVIRT_FWI does), another namespace on a second bridge is the student's
// machine. Every address, bridge, namespace and chain is made here and removed at the end,
// also on failure; traffic goes only to addresses the test made.

namespace {

using namespace labctl;
using hv::libvirt::Forwarder;

constexpr int k_target_port = 8081;
constexpr int k_published_port = 20311;

struct Names {
  int id = static_cast<int>(::getpid() % 100);
  std::string vm_ns = fmt::format("lctfw{}-vm", id);
  std::string student_ns = fmt::format("lctfw{}-st", id);
  std::string vm_bridge = fmt::format("lctfw{}v", id);
  std::string student_bridge = fmt::format("lctfw{}s", id);
  std::string chain = fmt::format("LCTFW{}_FWI", id);  // libvirt's LIBVIRT_FWI, in small
  std::string classroom = fmt::format("lctfw{}", id);
  std::string vm_net = fmt::format("10.253.{}", 2 * id);
  std::string student_net = fmt::format("10.253.{}", 2 * id + 1);
};

void run_quietly(const std::vector<std::string>& argv) {
  (void)sys::SystemRunner().run(argv);
}

// What stays after the test body, whatever happened in it.
class Scene {
 public:
  explicit Scene(const Names& n) : m_n(n), m_forward(read_file("/proc/sys/net/ipv4/ip_forward")) {}

  // Apart from the constructor, so that a failure half-way still runs the destructor.
  void build() {
    const Names& n = m_n;
    std::ofstream("/proc/sys/net/ipv4/ip_forward") << "1\n";
    testing::namespace_on_bridge(n.vm_ns, n.vm_bridge, n.vm_net);
    testing::namespace_on_bridge(n.student_ns, n.student_bridge, n.student_net);
    testing::must_run({"iptables", "-w", "-N", n.chain});
    testing::must_run({"iptables", "-w", "-I", "FORWARD", "1", "-j", n.chain});
    // As libvirt: replies from the VM network leave; inbound connections are refused.
    testing::must_run({"iptables", "-w", "-A", n.chain, "-i", n.vm_bridge, "-s", n.vm_net + ".0/24",
                       "-j", "ACCEPT"});
    testing::must_run({"iptables", "-w", "-A", n.chain, "-o", n.vm_bridge, "-j", "REJECT"});
    auto listener = sys::start_live_process(
        {"ip", "netns", "exec", n.vm_ns, "python3", "-c",
         fmt::format("import socket\ns = socket.socket()\n"
                     "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
                     "s.bind(('0.0.0.0', {}))\ns.listen(8)\n"
                     "while True:\n  c, _ = s.accept()\n  c.sendall(b'fake-vm\\n')\n  c.close()\n",
                     k_target_port)});
    REQUIRE(listener.ok());
    m_listener = std::move(*listener);
  }

  ~Scene() {
    if (m_listener) {
      m_listener->kill();
    }
    remove_test_rules();
    run_quietly({"iptables", "-w", "-D", "FORWARD", "-j", m_n.chain});
    run_quietly({"iptables", "-w", "-F", m_n.chain});
    run_quietly({"iptables", "-w", "-X", m_n.chain});
    testing::remove_namespace_and_bridge(m_n.vm_ns, m_n.vm_bridge);
    testing::remove_namespace_and_bridge(m_n.student_ns, m_n.student_bridge);
    std::ofstream("/proc/sys/net/ipv4/ip_forward") << m_forward;
  }

 private:
  static std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::string text;
    std::getline(in, text);
    return text + "\n";
  }

  // Every nat rule whose comment names the test's classroom (ours and the look-alikes).
  void remove_test_rules() const {
    for (const char* chain : {"PREROUTING", "OUTPUT"}) {
      auto listed = sys::SystemRunner().run({"iptables", "-w", "-t", "nat", "-S", chain});
      if (!listed.ok()) {
        continue;
      }
      for (const auto& rule : hv::libvirt::parse_listing("nat", listed->out)) {
        const auto& args = rule.rule.args;
        const auto comment = std::find(args.begin(), args.end(), "--comment");
        if (comment != args.end() && (comment + 1)->starts_with("labctl:" + m_n.classroom)) {
          std::vector<std::string> argv = {"iptables", "-w", "-t", "nat", "-D", chain};
          argv.insert(argv.end(), args.begin(), args.end());
          run_quietly(argv);
        }
      }
    }
  }

  const Names& m_n;
  std::string m_forward;
  std::unique_ptr<sys::LiveProcess> m_listener;
};

// What a namespace ("" = the host) reads from address:port within 2 s ("" when nothing
// answers); tried up to `tries` times, a second apart, until it reads something.
std::string reads_in(const std::string& ns, const std::string& address, int port, int tries) {
  std::vector<std::string> argv;
  if (!ns.empty()) {
    argv = {"ip", "netns", "exec", ns};
  }
  for (int i = 0; i < tries; ++i) {
    argv.resize(ns.empty() ? 0 : 4);
    argv.insert(
        argv.end(),
        {"python3", "-c",
         "import socket, sys\ntry:\n  s = socket.create_connection((sys.argv[1], "
         "int(sys.argv[2])), timeout=2)\n  s.settimeout(2)\n  print(s.recv(64).decode().strip())\n"
         "except OSError:\n  pass\n",
         address, std::to_string(port)});
    auto got = sys::SystemRunner().run(argv);
    if (got.ok() && !got->out.empty()) {
      return got->out.substr(0, got->out.find('\n'));
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  return {};
}

hv::libvirt::ForwardSpec spec_for(const Names& n, const std::string& identity,
                                  const std::string& team = "team3", int port = k_published_port) {
  model::Endpoint e;
  e.team = team;
  e.vm = "vm1";
  e.name = "main";
  e.host = n.student_net + ".1";
  e.listen = n.student_net + ".1";  // the test's own address: nothing else is forwarded
  e.port = port;
  e.target_ip = n.vm_net + ".2";
  e.target_port = k_target_port;
  hv::libvirt::ForwardSpec spec;
  spec.owner = {n.classroom, team, identity, "0123456789ab"};
  spec.accept_chain = n.chain;
  spec.targets = {{e, n.vm_bridge}};
  return spec;
}

std::string student_reads(const Names& n, const std::string& address, int port, int tries) {
  return reads_in(n.student_ns, address, port, tries);
}

// A DNAT rule named like labctl's (`op` -A adds it, -D deletes it) to the test's listener.
void lookalike(const Names& n, const std::string& op, const std::string& comment,
               const std::string& port) {
  const std::string rule = fmt::format(
      "-d {}.1/32 -p tcp --dport {} -m comment --comment {} -j DNAT --to-destination {}.2:8081",
      n.student_net, port, comment, n.vm_net);
  std::vector<std::string> argv = {"iptables", "-w", "-t", "nat", op, "PREROUTING"};
  std::istringstream words(rule);
  for (std::string word; words >> word;) {
    argv.push_back(word);
  }
  testing::must_run(argv);
}

std::string nat_rules() {
  auto listed = sys::SystemRunner().run({"iptables", "-w", "-t", "nat", "-S", "PREROUTING"});
  REQUIRE(listed.ok());
  return listed->out;
}

}  // namespace

TEST_CASE("published endpoints: DNAT through the kernel, repaired, removed by owner only",
          "[system]") {
  if (::geteuid() != 0) {
    WARN("SKIPPED: needs root for namespaces, bridges and iptables");
    return;
  }
  const Names n;
  Scene scene(n);
  scene.build();
  sys::SystemRunner runner;
  Forwarder forwarder(runner, n.chain);
  const std::string published = n.student_net + ".1";
  // The listener answers the host (no forwarding on that path) before anything is concluded;
  // the student's machine cannot reach the VM's private address, nor the published port yet.
  REQUIRE(reads_in("", n.vm_net + ".2", k_target_port, 10) == "fake-vm");
  CHECK(student_reads(n, n.vm_net + ".2", k_target_port, 1) == "");
  CHECK(student_reads(n, published, k_published_port, 1) == "");

  const auto spec = spec_for(n, "c0ffee");
  REQUIRE(forwarder.apply(spec).ok());
  CHECK(student_reads(n, published, k_published_port, 10) == "fake-vm");
  auto listed = forwarder.list(n.classroom);
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 1);
  CHECK(listed->front().state == hv::PowerState::running);

  SECTION("libvirt's REJECT re-added ahead of ours: seen, and repaired by apply") {
    testing::must_run({"iptables", "-w", "-I", n.chain, "1", "-o", n.vm_bridge, "-j", "REJECT"});
    CHECK(student_reads(n, published, k_published_port, 1) == "");
    listed = forwarder.list(n.classroom);
    REQUIRE(listed.ok());
    CHECK(listed->front().state == hv::PowerState::off);
    REQUIRE(forwarder.apply(spec).ok());
    CHECK(student_reads(n, published, k_published_port, 10) == "fake-vm");
  }
  SECTION("another team's endpoints stay when one team's go") {
    constexpr int k_team2_port = k_published_port - 100;
    const auto team2 = spec_for(n, "c0ffee", "team2", k_team2_port);
    REQUIRE(forwarder.apply(team2).ok());
    CHECK(student_reads(n, published, k_team2_port, 10) == "fake-vm");
    listed = forwarder.list(n.classroom);
    REQUIRE(listed.ok());
    CHECK(listed->size() == 2);
    REQUIRE(forwarder.remove(n.classroom, "team3", "c0ffee").ok());
    CHECK(student_reads(n, published, k_published_port, 1) == "");
    CHECK(student_reads(n, published, k_team2_port, 10) == "fake-vm");
    REQUIRE(forwarder.remove(n.classroom, "team2", "c0ffee").ok());
    CHECK(student_reads(n, published, k_team2_port, 1) == "");
  }
  SECTION("remove takes ours only: rules named like labctl's survive") {
    const std::string other_identity = fmt::format("labctl:{}:team3:beef:1", n.classroom);
    const std::string other_classroom = fmt::format("labctl:{}x:team3:c0ffee:1", n.classroom);
    lookalike(n, "-A", other_identity, "20398");
    lookalike(n, "-A", other_classroom, "20399");
    REQUIRE(forwarder.remove(n.classroom, "team3", "c0ffee").ok());
    CHECK(student_reads(n, published, k_published_port, 1) == "");
    const std::string left = nat_rules();
    CHECK(left.find(other_identity) != std::string::npos);
    CHECK(left.find(other_classroom) != std::string::npos);
    CHECK(left.find(":c0ffee:0123456789ab") == std::string::npos);
    lookalike(n, "-D", other_identity, "20398");
    lookalike(n, "-D", other_classroom, "20399");
  }
  (void)forwarder.remove(n.classroom, "team3", "c0ffee");
  CHECK(nat_rules().find(n.classroom) == std::string::npos);
}
