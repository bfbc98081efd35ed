#include "provision/model/names.hpp"

#include <catch2/catch.hpp>

#include "provision/model/addressing.hpp"

using namespace labctl::model;

TEST_CASE("safe names", "[unit][model]") {
  SECTION("valid names") {
    for (const char* name :
         {"a", "team1", "red-team", "vm-2", "abcdefghijklmnopqrstuvwxyz012345"}) {
      INFO(name);
      CHECK(check_name("team name", name).empty());
    }
  }
  SECTION("invalid names say which value and which rule") {
    for (const char* name : {"", "Team1", "1team", "team-", "team_1", "te am", "a'b", "a;b",
                             "abcdefghijklmnopqrstuvwxyz0123456"}) {
      INFO(name);
      CHECK(check_name("team name", name) ==
            std::string("invalid team name '") + name +
                "': use lower-case letters, digits and '-', starting with a letter, not ending "
                "with '-', at most 32 characters");
    }
  }
  SECTION("classroom names are short and have no '-'") {
    CHECK(check_classroom("cd26").empty());
    CHECK(check_classroom("abcdefghijkl").empty());
    CHECK(check_classroom("cd-26") ==
          "invalid classroom name 'cd-26': use 1 to 12 lower-case letters and digits, starting "
          "with a letter");
    CHECK_FALSE(check_classroom("abcdefghijklm").empty());
    CHECK_FALSE(check_classroom("26cd").empty());
  }
}

TEST_CASE("suggestions for typos", "[unit][model]") {
  const std::vector<std::string> keys = {"memory", "vcpus", "disk", "instances", "networks"};
  CHECK(edit_distance("memroy", "memory") == 1);
  CHECK(edit_distance("kitten", "sitting") == 3);
  CHECK(closest("memroy", keys) == "memory");
  CHECK(closest("instance", keys) == "instances");
  CHECK(closest("vcpu", keys) == "vcpus");
  CHECK_FALSE(closest("bananas", keys).has_value());
  CHECK_FALSE(closest("dx", {"disk"}).has_value());
}

TEST_CASE("addressing helpers", "[unit][model]") {
  SECTION("the default pool is 10.X.0.0/16 with X from the classroom's hash") {
    CHECK(default_pool("cd26").cidr() ==
          "10." + std::to_string(64 + fnv1a32("cd26") % 128) + ".0.0/16");
    CHECK(default_pool("cd26").cidr() == "10.146.0.0/16");
  }
  SECTION("CIDR parsing") {
    REQUIRE(parse_cidr("10.64.0.0/16").has_value());
    CHECK(parse_cidr("10.64.0.0/16")->cidr() == "10.64.0.0/16");
    CHECK(parse_cidr("192.168.3.0/24")->network == 0xc0a80300U);
    for (const char* bad : {"10.64.0.1/16", "10.64.0.0", "10.64.0/16", "256.0.0.0/8", "10.0.0.0/33",
                            "10.0.0.0/16x", " 10.0.0.0/16", "1.2.3.4.5/8"}) {
      INFO(bad);
      CHECK_FALSE(parse_cidr(bad).has_value());
    }
  }
  SECTION("MACs are locally administered and carry team, VM and NIC") {
    const std::uint32_t hash = fnv1a32("cd26") & 0xffff;
    CHECK(hash == 0xd752);
    CHECK(mac_address("cd26", 3, 1, 0) == "02:d7:52:03:01:00");
    CHECK(mac_address("cd26", 10, 12, 2) == "02:d7:52:0a:0c:02");
  }
  SECTION("FNV-1a reference values") {
    CHECK(fnv1a32("") == 0x811c9dc5U);
    CHECK(fnv1a32("a") == 0xe40c292cU);
    CHECK(fnv1a64("") == 0xcbf29ce484222325ULL);
    CHECK(fnv1a64("a") == 0xaf63dc4c8601ec8cULL);
  }
}
