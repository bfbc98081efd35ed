#pragma once

// A stand-in for a classroom's LAN: a Linux bridge that the test creates (no uplink, so its
// traffic stays on this machine), an address on it for the host, and a dnsmasq (Debian's
// dnsmasq-base, the one libvirt uses) serving DHCP on it alone: no DNS, no router option,
// its own lease file. Destroying it stops dnsmasq and deletes the bridge.

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "provision/sys/live_process.hpp"
#include "provision/sys/process.hpp"

namespace labctl::testing {

class TestLan {
 public:
  // `dir` keeps the lease file; the bridge is lctlan<N>, subnet 192.168.<200+N%50>.0/24.
  explicit TestLan(const std::filesystem::path& dir) : m_leases(dir / "lan.leases") {
    std::random_device random;
    const unsigned n = random() % 100000;
    m_bridge = fmt::format("lctlan{}", n);
    m_prefix = fmt::format("192.168.{}", 200 + n % 50);
    std::ofstream(m_leases).close();
    m_error = setup();
  }
  ~TestLan() {
    if (m_dnsmasq) {
      m_dnsmasq->kill();
      m_dnsmasq.reset();
    }
    run({"ip", "link", "del", m_bridge});
  }
  TestLan(const TestLan&) = delete;
  TestLan& operator=(const TestLan&) = delete;

  const std::string& error() const { return m_error; }  // "" when the LAN is up
  const std::string& bridge() const { return m_bridge; }
  std::string host_address() const { return m_prefix + ".1"; }
  bool in_range(const std::string& ip) const {
    if (ip.rfind(m_prefix + ".", 0) != 0) {
      return false;
    }
    const int last = std::stoi(ip.substr(m_prefix.size() + 1));
    return last >= 100 && last <= 150;
  }
  // The lease dnsmasq gave a MAC ("" none): "<expiry> <mac> <ip> <name> <client id>" lines.
  std::string lease_of(const std::string& mac) const {
    std::ifstream in(m_leases);
    for (std::string line; std::getline(in, line);) {
      std::istringstream fields(line);
      std::string expiry, lease_mac, ip;
      fields >> expiry >> lease_mac >> ip;
      if (lease_mac == mac) {
        return ip;
      }
    }
    return "";
  }

 private:
  static std::string run(const std::vector<std::string>& argv) {
    auto result = sys::SystemRunner().run(argv);
    if (!result) {
      return result.error().message;
    }
    return result->exit_code == 0 ? "" : fmt::format("{}: {}", argv[0], result->err);
  }

  std::string setup() {
    for (const auto& argv : std::vector<std::vector<std::string>>{
             {"ip", "link", "add", m_bridge, "type", "bridge"},
             {"ip", "addr", "add", host_address() + "/24", "dev", m_bridge},
             {"ip", "link", "set", m_bridge, "up"}}) {
      if (std::string why = run(argv); !why.empty()) {
        return why;
      }
    }
    auto dnsmasq = sys::start_live_process(
        {"dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--port=0",
         "--bind-interfaces", "--interface=" + m_bridge, "--except-interface=lo",
         "--listen-address=" + host_address(),
         fmt::format("--dhcp-range={0}.100,{0}.150,255.255.255.0,1h", m_prefix), "--dhcp-option=3",
         "--dhcp-option=6", "--dhcp-leasefile=" + m_leases.string(), "--dhcp-authoritative",
         "--log-dhcp"});
    if (!dnsmasq) {
      return dnsmasq.error().message;
    }
    m_dnsmasq = std::move(*dnsmasq);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // bound and listening
    return "";
  }

  std::filesystem::path m_leases;
  std::string m_bridge, m_prefix, m_error;
  std::unique_ptr<sys::LiveProcess> m_dnsmasq;
};

}  // namespace labctl::testing
