#include "provision/sys/classroom_state.hpp"

#include <fstream>

#include <catch2/catch.hpp>

#include "provision/sys/state.hpp"
#include "tests/support/golden.hpp"

using namespace labctl;
using sys::ClassroomState;

namespace {

// A state.json as labctl wrote it before the version field: nlohmann::json's dump(2) of what
// `up`, `squash add/rm` and the address learning recorded (keys sorted). The second added
// instance is as labctl wrote them before instances had an image and a memory limit.
const std::string k_todays_file = R"({
  "access": {
    "first": 20000,
    "last": 20999,
    "listen": "0.0.0.0"
  },
  "addresses": {
    "cd26-team1-vm1": {
      "campus": "192.168.77.50"
    }
  },
  "identity": {
    "id": "5c1f0123456789abcdef0123456789ab",
    "lab_file": "/home/ann/cd26/labctl.yaml"
  },
  "instances": {
    "team1/vm2": {
      "added": [
        {
          "db": "mariadb",
          "image": "squashtest/squash-tm",
          "memory": 2147483648,
          "name": "exam",
          "port": 8082,
          "version": "6.1.0"
        },
        {
          "db": "h2",
          "name": "old",
          "port": 8083,
          "version": "5.1.0"
        }
      ],
      "removed": [
        "main"
      ]
    }
  },
  "placement": {
    "team1": "qemu:///system",
    "team2": "qemu+ssh://host-b/system"
  },
  "standin": true
}
)";

model::Vm vm2() {
  model::Vm vm;
  vm.team = "team1";
  vm.key = "vm2";
  vm.name = "cd26-team1-vm2";
  model::Instance main;
  main.name = "main";
  main.version = "6.0.0";
  main.port = 8081;
  vm.instances = {main};
  return vm;
}

std::vector<std::string> names(const std::vector<model::Instance>& instances) {
  std::vector<std::string> out;
  for (const model::Instance& i : instances) {
    out.push_back(i.name + " " + i.version + " " + std::to_string(i.port));
  }
  return out;
}

void check_todays_data(const ClassroomState& state) {
  CHECK(state.version == 1);
  CHECK(state.identity.id == "5c1f0123456789abcdef0123456789ab");
  CHECK(state.identity.lab_file == "/home/ann/cd26/labctl.yaml");
  CHECK(state.placement == std::map<std::string, std::string>{
                               {"team1", "qemu:///system"}, {"team2", "qemu+ssh://host-b/system"}});
  CHECK(state.standin);
  REQUIRE(state.access.has_value());
  CHECK(state.access->first == 20000);
  CHECK(state.access->last == 20999);
  CHECK(state.access->listen == "0.0.0.0");
  CHECK(state.addresses.at("cd26-team1-vm1").at("campus") == "192.168.77.50");
  const auto instances = state.effective_instances(vm2());
  CHECK(names(instances) == std::vector<std::string>{"exam 6.1.0 8082", "old 5.1.0 8083"});
  REQUIRE(instances.size() == 2);
  CHECK(instances[0].db == model::DbKind::mariadb);
  CHECK(instances[0].memory == 2 * model::k_gib);
  CHECK(instances[1].db == model::DbKind::h2);
  CHECK(instances[1].image == "squashtest/squash-tm");
  CHECK(instances[1].memory == model::k_instance_memory);
}

}  // namespace

TEST_CASE("today's state.json, without a version, reads as version 1 with its data", "[unit]") {
  SECTION("parsed") {
    auto state = sys::parse_classroom_state(k_todays_file, "state.json");
    REQUIRE(state.ok());
    check_todays_data(*state);
  }
  SECTION("in a classroom that is up: read, updated, and its data kept") {
    testing::ScratchDir scratch("lct-classroom-state");
    auto dir = sys::StateDir::open_at(scratch.path(), "cd26");
    REQUIRE(dir.ok());
    std::ofstream(dir->state_path()) << k_todays_file;
    auto read = dir->read_state();
    REQUIRE(read.ok());
    check_todays_data(*read);
    REQUIRE(dir->update_state([](ClassroomState&) {}).ok());
    const auto written = nlohmann::json::parse(testing::read_file(dir->state_path()));
    CHECK(written["version"] == 1);
    auto again = dir->read_state();
    REQUIRE(again.ok());
    check_todays_data(*again);
  }
}

TEST_CASE("a classroom state round-trips through its JSON", "[unit]") {
  ClassroomState state;
  state.identity = {"0123456789abcdef0123456789abcdef", "/labs/cd26.yaml"};
  state.placement = {{"team1", "test:///default"}};
  state.addresses["cd26-team1-vm2"] = {{"campus", "10.0.0.7"}, {"lab", "10.1.0.7"}};
  state.standin = true;
  state.access = sys::RecordedAccess{21000, 21999, "192.0.2.1"};
  model::Instance exam;
  exam.name = "exam";
  exam.version = "6.1.0";
  exam.port = 8082;
  exam.db = model::DbKind::h2;
  exam.image = "registry.example/squash-tm";
  exam.memory = 768 * model::k_mib;
  state.record_added(vm2(), exam);
  state.record_removed(vm2(), "main");

  const std::string text = to_json(state).dump(2);
  auto back = sys::parse_classroom_state(text, "state.json");
  REQUIRE(back.ok());
  CHECK(to_json(*back) == to_json(state));
  CHECK(back->version == ClassroomState::k_version);
  CHECK(back->identity.lab_file == "/labs/cd26.yaml");
  CHECK(back->access->listen == "192.0.2.1");
  const auto instances = back->effective_instances(vm2());
  REQUIRE(instances.size() == 1);
  CHECK(instances[0].image == "registry.example/squash-tm");
  CHECK(instances[0].memory == 768 * model::k_mib);
  CHECK(instances[0].db == model::DbKind::h2);
  CHECK(names(instances) == names(state.effective_instances(vm2())));

  SECTION("an empty state writes its version only") {
    CHECK(to_json(ClassroomState{}) == nlohmann::json{{"version", 1}});
  }
}

TEST_CASE("a state.json labctl cannot read is an error naming the file", "[unit]") {
  auto error_of = [](const std::string& text) {
    auto state = sys::parse_classroom_state(text, "/state/cd26/state.json");
    REQUIRE_FALSE(state.ok());
    return state.error().message;
  };
  CHECK(error_of("{broken") == "/state/cd26/state.json: not valid JSON");
  CHECK(error_of("[]") == "/state/cd26/state.json: not a JSON object");
  CHECK(error_of(R"({"version": 2})") ==
        "/state/cd26/state.json: written by a newer labctl (state version 2; this labctl reads "
        "up to 1): use that labctl for this classroom");
  CHECK(error_of(R"({"version": "1"})") ==
        "/state/cd26/state.json: \"version\" is not a version number: \"1\"");
  CHECK(error_of(R"({"version": 0})").starts_with("/state/cd26/state.json: \"version\""));
  for (const char* text :
       {R"({"standin": "yes"})", R"({"placement": {"team1": 3}})", R"({"identity": "x"})",
        R"({"instances": {"team1/vm2": {"added": {}}}})",
        R"({"addresses": {"cd26-team1-vm1": "10.0.0.1"}})", R"({"access": {"first": "20000"}})"}) {
    INFO(text);
    CHECK(error_of(text).starts_with(
        "/state/cd26/state.json: not a classroom state labctl can read: "));
  }
}

TEST_CASE("a recorded instance keeps only what the file keeps", "[unit]") {
  ClassroomState state;
  model::Instance exam;
  exam.name = "exam";
  exam.version = "6.1.0";
  exam.port = 8082;
  exam.env = model::EnvScheme::legacy;
  exam.version_site = {"lab.yaml", 12, 3};
  state.record_added(vm2(), exam);
  const model::Instance kept = state.effective_instances(vm2()).back();
  CHECK(kept.env == model::EnvScheme::automatic);
  CHECK(kept.version_site.line == 0);
}
