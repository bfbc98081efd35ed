#include "provision/plan/access_checks.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "provision/model/loader.hpp"
#include "tests/support/golden.hpp"

using namespace labctl;

namespace {

const std::string k_lab = R"(classroom: cd27
access: {host: lab-server.school.lan, listen: 0.0.0.0, ports: 20000-20999, ssh: true}
teams: {names: [red, green, blue]}
template:
  networks: {net: {kind: nat}}
  vms: {web: {instances: [{name: main, version: 6.0.0}]}}
)";

model::Lab lab_with(const std::string& from, const std::string& to) {
  std::string text = k_lab;
  text.replace(text.find(from), from.size(), to);
  auto lab = model::parse_lab(text, "lab.yaml");
  REQUIRE(lab.ok());
  return *lab;
}

std::string refusal(const model::Lab& lab, const sys::HostPorts& host) {
  std::vector<const model::Team*> teams;
  for (const model::Team& team : lab.teams) {
    teams.push_back(&team);
  }
  const Status st = plan::check_access(lab, teams, host);
  return st.ok() ? "" : st.error().message;
}

}  // namespace

TEST_CASE("access on the host: listen address, ports in use, other classrooms' ranges", "[unit]") {
  const model::Lab lab = lab_with("", "");
  sys::HostPorts host;
  host.addresses = {"127.0.0.1", "192.0.2.5"};
  host.listening = {{"0.0.0.0", 22}, {"127.0.0.1", 20311}};
  SECTION("a free range on every address passes") {
    CHECK(refusal(lab, {}) == "");
  }
  SECTION("a socket on a published port") {
    CHECK(refusal(lab, host) ==
          "lab.yaml:2:63: access.ports: port 20311 (blue web main) is in use on this host (a "
          "socket listens on 127.0.0.1:20311): stop it or give another range");
    const model::Lab other = lab_with("listen: 0.0.0.0", "listen: 192.0.2.5");
    CHECK(refusal(other, host) == "");  // 127.0.0.1 is another address
    host.listening.push_back({"0.0.0.0", 20101});
    CHECK(refusal(other, host)
              .starts_with("lab.yaml:2:65: access.ports: port 20101 (red web "
                           "ssh) is in use on this host"));
  }
  SECTION("an address the host does not have") {
    const model::Lab other = lab_with("listen: 0.0.0.0", "listen: 198.51.100.1");
    CHECK(refusal(other, host) ==
          "lab.yaml:2:47: access.listen: 198.51.100.1 is not an address of this host (it has "
          "127.0.0.1, 192.0.2.5): give one of them, or 0.0.0.0 for all");
  }
  SECTION("another classroom's recorded range") {
    host.listening.clear();
    host.ranges = {{"cd27", 20900, 21999, "/state/cd27/state.json"}};
    CHECK(refusal(lab, host) ==
          "lab.yaml:2:63: access.ports: ports 20000-20999 overlap 20900-21999 of classroom cd27 "
          "on this host (recorded in /state/cd27/state.json): give a range apart from it");
    host.ranges = {{"cd27", 21000, 21999, "/state/cd27/state.json"}};
    CHECK(refusal(lab, host) == "");
  }
  SECTION("another classroom's state that cannot be read: its range is unknown") {
    host.listening.clear();
    host.ranges = {{"cd29", 0, 0, "/state/cd29/state.json", "/state/cd29/state.json: not JSON"}};
    CHECK(refusal(lab, host) ==
          "lab.yaml:2:63: access.ports: ports 20000-20999 cannot be checked against classroom "
          "cd29 on this host: /state/cd29/state.json: not JSON: repair that file, or take that "
          "classroom down");
  }
}

TEST_CASE("the host's facts: /proc/net/tcp and recorded ranges", "[unit]") {
  const std::string tcp =
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid\n"
      "   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0\n"
      "   1: 0100007F:4F27 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0\n"
      "   2: 020200C0:915A 507100CB:0050 01 00000000:00000000 03:000014EA 00000000     0\n";
  const auto sockets = sys::parse_proc_net_tcp(tcp);
  REQUIRE(sockets.size() == 2);
  CHECK(sockets[0].address == "0.0.0.0");
  CHECK(sockets[0].port == 2024);
  CHECK(sockets[1].address == "127.0.0.1");
  CHECK(sockets[1].port == 20263);
  const std::string tcp6 =
      "  sl  local_address                         remote_address                        st\n"
      "   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A\n"
      "   1: 00000000000000000000000001000000:0019 00000000000000000000000000000000:0000 0A\n";
  const auto v6 = sys::parse_proc_net_tcp6(tcp6);
  REQUIRE(v6.size() == 1);
  CHECK(v6[0].port == 22);

  const testing::ScratchDir scratch("lct-ranges");
  const auto& root = scratch.path();
  for (const auto& [name, text] :
       {std::pair{"cd27", R"({"access": {"first": 21000, "last": 21999, "listen": "0.0.0.0"}})"},
        {"cd26", R"({"access": {"first": 20000, "last": 20999}})"},
        {"cd28", R"({"standin": true})"},
        {"cd29", "not json"}}) {
    std::filesystem::create_directories(root / name);
    std::ofstream(root / name / "state.json") << text;
  }
  auto ranges = sys::recorded_ranges(root, "cd26");
  std::sort(ranges.begin(), ranges.end(),
            [](const auto& a, const auto& b) { return a.classroom < b.classroom; });
  REQUIRE(ranges.size() == 2);
  CHECK(ranges[0].classroom == "cd27");
  CHECK(ranges[0].first == 21000);
  CHECK(ranges[0].last == 21999);
  CHECK(ranges[0].unreadable.empty());
  CHECK(ranges[1].classroom == "cd29");
  CHECK(ranges[1].recorded_in == (root / "cd29" / "state.json").string());
  CHECK(ranges[1].unreadable.find("cd29/state.json") != std::string::npos);
}
