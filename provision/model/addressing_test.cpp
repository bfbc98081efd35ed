#include "provision/model/addressing.hpp"

#include <catch2/catch.hpp>

#include "provision/model/loader.hpp"

using namespace labctl::model;

namespace {

Subnet cidr(const char* text) {
  const auto subnet = parse_cidr(text);
  REQUIRE(subnet.has_value());
  return *subnet;
}

std::string cover(const std::vector<const char*>& texts) {
  std::vector<Subnet> subnets;
  for (const char* text : texts) {
    subnets.push_back(cidr(text));
  }
  const auto prefix = covering_prefix(subnets);
  return prefix ? prefix->cidr() : "none";
}

Lab parse(const std::string& text) {
  auto lab = parse_lab(text, "lab.yaml");
  INFO((lab.ok() ? std::string() : lab.error().message));
  REQUIRE(lab.ok());
  return *lab;
}

}  // namespace

TEST_CASE("the smallest prefix covering subnets", "[unit][model]") {
  CHECK(cover({}) == "none");
  CHECK(cover({"10.61.3.0/24"}) == "10.61.3.0/24");
  CHECK(cover({"10.61.0.0/24", "10.61.1.0/24"}) == "10.61.0.0/23");
  CHECK(cover({"10.61.1.0/24", "10.61.2.0/24"}) == "10.61.0.0/22");
  CHECK(cover({"10.61.0.0/24", "10.61.2.0/24", "10.61.4.0/24", "10.61.6.0/24"}) == "10.61.0.0/21");
  CHECK(cover({"192.168.7.0/24", "192.168.0.0/16"}) == "192.168.0.0/16");
  CHECK(cover({"10.1.0.0/24", "10.200.0.0/24"}) == "10.0.0.0/8");
  CHECK(cover({"10.1.0.0/24", "192.168.1.0/24"}) == "0.0.0.0/0");
}

TEST_CASE("the one NAT prefix of a classroom", "[unit][model]") {
  const std::string vms = "  vms: {vm1: }\n";
  SECTION("from the pool: the default pool, however many teams") {
    const Lab lab = parse(
        "classroom: cd26\nteams: {count: 4}\ntemplate:\n  networks:\n"
        "    lan: {kind: nat}\n    lab: {kind: isolated}\n" +
        vms);
    CHECK(nat_prefix(lab)->cidr() == default_pool("cd26").cidr());
    CHECK(nat_prefix(lab)->prefix == 16);
  }
  SECTION("from the pool given in subnets:") {
    const Lab lab = parse(
        "classroom: cd26\nsubnets: 172.20.0.0/20\nteams: {count: 2}\n"
        "template:\n  networks:\n    lan: {kind: nat}\n" +
        vms);
    CHECK(nat_prefix(lab)->cidr() == "172.20.0.0/20");
  }
  SECTION("explicit subnets outside the pool: the smallest prefix covering the nat ones") {
    const Lab lab = parse(
        "classroom: cd26\nteams: {count: 4}\ntemplate:\n  networks:\n"
        "    lan: {kind: nat, subnet: \"192.168.{team_index}.0/24\"}\n"
        "    lab: {kind: isolated, subnet: \"192.168.1{team_index}.0/24\"}\n" +
        vms);
    CHECK(nat_prefix(lab)->cidr() == "192.168.0.0/21");
  }
  SECTION("an isolated subnet may lie inside it: the cover always exists") {
    // team1-lab 10.X.1.0/24 sits between the lans 10.X.0.0/24 and 10.X.2.0/24: harmless
    // on Hyper-V (a Private switch has no host address), so nothing refuses it.
    const Lab lab = parse(
        "classroom: cd26\nhosts: [{uri: \"hyperv://hv1\"}]\nteams: {count: 2}\n"
        "template:\n  networks:\n    lan: {kind: nat}\n"
        "    lab: {kind: isolated}\n" +
        vms);
    const Subnet lab1 = *lab.teams[0].networks[1].subnet;
    CHECK(nat_prefix(lab)->overlaps(lab1));
  }
  SECTION("no nat network: no prefix") {
    const Lab lab = parse(
        "classroom: cd26\nteams: {count: 2}\ntemplate:\n  networks:\n"
        "    lab: {kind: isolated}\n" +
        vms);
    CHECK_FALSE(nat_prefix(lab).has_value());
  }
}
