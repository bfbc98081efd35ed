#include "provision/model/access.hpp"

#include <set>

#include <catch2/catch.hpp>

#include "provision/model/loader.hpp"

using labctl::model::Endpoint;
using labctl::model::EndpointKind;
using labctl::model::endpoints;
using labctl::model::parse_lab;

namespace {

// Two VMs, vm1 with two instances, vm2 with one on an explicit port; three teams.
const std::string k_lab = R"(classroom: cd26
subnets: 10.146.0.0/16
access: {host: lab-server.school.lan, listen: 0.0.0.0, ports: 20000-29999, ssh: true}
teams: {count: 3}
template:
  networks:
    lan: {kind: nat}
  vms:
    vm1:
      memory: 2GiB
      instances:
        - {name: main, version: 6.0.0, memory: 512MiB}
        - {name: legacy, version: 5.1.0, memory: 512MiB}
    vm2:
      instances:
        - {name: next, version: 7.0.0, port: 8083}
)";

std::string error_of(const std::string& text) {
  const auto lab = parse_lab(text, "lab.yaml");
  REQUIRE_FALSE(lab.ok());
  return lab.error().message;
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  text.replace(text.find(from), from.size(), to);
  return text;
}

}  // namespace

TEST_CASE("access: every instance and SSH gets a deterministic host port", "[unit][model]") {
  const auto lab = parse_lab(k_lab, "lab.yaml");
  INFO((lab.ok() ? std::string() : lab.error().message));
  REQUIRE(lab.ok());
  SECTION("team3: team block 20300, slot 0 SSH, slot k the instance on 8080 + k") {
    const auto team3 = endpoints(*lab, "team3");
    using K = EndpointKind;
    const std::string host = "lab-server.school.lan";
    const std::string any = "0.0.0.0";
    const std::vector<Endpoint> expected = {
        {"team3", "vm1", "ssh", K::ssh, host, any, 20301, "10.146.2.11", 22},
        {"team3", "vm1", "main", K::http, host, any, 20311, "10.146.2.11", 8081},
        {"team3", "vm1", "legacy", K::http, host, any, 20321, "10.146.2.11", 8082},
        {"team3", "vm2", "ssh", K::ssh, host, any, 20302, "10.146.2.12", 22},
        {"team3", "vm2", "next", K::http, host, any, 20332, "10.146.2.12", 8083},
    };
    CHECK(team3 == expected);
    CHECK(team3[1].student_form("student") == "http://lab-server.school.lan:20311/squash");
    CHECK(team3[1].private_form() == "http://10.146.2.11:8081/squash");
    CHECK(team3[0].student_form("student") == "ssh -p 20301 student@lab-server.school.lan");
  }
  SECTION("every port is distinct and inside the range") {
    const auto all = endpoints(*lab);
    CHECK(all.size() == 15);
    std::set<int> ports;
    for (const Endpoint& e : all) {
      CHECK(e.port >= 20000);
      CHECK(e.port <= 29999);
      ports.insert(e.port);
    }
    CHECK(ports.size() == all.size());
  }
  SECTION("a team's ports do not move when another team or VM changes") {
    const auto fewer = parse_lab(replaced(k_lab, "count: 3", "count: 4"), "lab.yaml");
    REQUIRE(fewer.ok());
    CHECK(endpoints(*fewer, "team3") == endpoints(*lab, "team3"));
  }
  SECTION("without ssh: instances only; without access: none") {
    const auto no_ssh = parse_lab(replaced(k_lab, "ssh: true", "ssh: false"), "lab.yaml");
    REQUIRE(no_ssh.ok());
    CHECK(endpoints(*no_ssh).size() == 9);
    const auto none =
        parse_lab(replaced(k_lab,
                           "access: {host: lab-server.school.lan, listen: 0.0.0.0, ports: "
                           "20000-29999, ssh: true}\n",
                           ""),
                  "lab.yaml");
    REQUIRE(none.ok());
    CHECK(endpoints(*none).empty());
    CHECK_FALSE(none->access.enabled);
  }
  SECTION("the sites of listen and ports are kept for plan's refusals") {
    CHECK(lab->access.ports_site.line == 3);
    CHECK(lab->access.ports_site.column == 63);
    CHECK(lab->access.ports_site.key == "access.ports");
    CHECK(lab->access.listen_site.key == "access.listen");
  }
}

TEST_CASE("access: bad values name the line, the key and the numbers", "[unit][model]") {
  const std::string line =
      "access: {host: lab-server.school.lan, listen: 0.0.0.0, ports: "
      "20000-29999, ssh: true}";
  auto with = [&](const std::string& access) { return replaced(k_lab, line, access); };
  CHECK(error_of(with("access: {host: h, ports: 30000-20000}")) ==
        "lab.yaml:3:26: access.ports: invalid port range '30000-20000' (expected FIRST-LAST "
        "between 1024 and 65535, e.g. 20000-29999)");
  CHECK(error_of(with("access: {host: h, ports: 80-90}"))
            .starts_with("lab.yaml:3:26: access.ports: invalid port range '80-90'"));
  CHECK(error_of(with("access: {host: h, ports: 20000}"))
            .starts_with("lab.yaml:3:26: access.ports: invalid port range '20000'"));
  CHECK(error_of(with("access: {host: h, listen: 10.1.1}")) ==
        "lab.yaml:3:27: access.listen: invalid listen address '10.1.1' (expected one IPv4 "
        "address of this host, or 0.0.0.0 for all of them)");
  CHECK(error_of(with("access: {host: 'a b'}")) ==
        "lab.yaml:3:16: access.host: invalid host 'a b' (expected the DNS name or IPv4 address "
        "students use, e.g. lab-server.school.lan)");
  CHECK(error_of(with("access: {listen: 0.0.0.0}")) ==
        "lab.yaml:3:9: access.host: missing required key");
  CHECK(error_of(with("access: {host: h, shh: true}")) ==
        "lab.yaml:3:19: access.shh: unknown key (did you mean 'ssh'?)");
  CHECK(error_of(with("access: {host: h, ssh: yes}"))
            .starts_with("lab.yaml:3:24: access.ssh: invalid value 'yes'"));
  SECTION("more endpoints than the range holds") {
    CHECK(error_of(with("access: {host: h, ports: 20000-20350}")) ==
          "lab.yaml:3:26: access.ports: ports 20000-20350 hold 351 ports; 3 teams of 100 ports "
          "each (team N from 20000 + N * 100) need 20000-20399: give a wider range");
    CHECK(parse_lab(with("access: {host: h, ports: 20000-20399}"), "lab.yaml").ok());
  }
  SECTION("an instance without a slot") {
    CHECK(error_of(replaced(with("access: {host: h}"), "port: 8083", "port: 9000")) ==
          "lab.yaml:3:9: access.ports: team1 vm2 instance 'next' is on port 9000: published "
          "instances use ports 8081-8089 of their VM");
  }
}
