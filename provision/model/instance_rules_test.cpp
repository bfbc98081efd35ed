#include "provision/model/instance_rules.hpp"

#include <catch2/catch.hpp>

namespace {

using namespace labctl;

model::Instance at(const std::string& name, int port, model::DbKind db = model::DbKind::h2) {
  model::Instance instance;
  instance.name = name;
  instance.version = "6.0.0";
  instance.port = port;
  instance.db = db;
  return instance;
}

}  // namespace

TEST_CASE("instance rules: ports from 8081, the first gap, and none when all are taken", "[unit]") {
  CHECK(model::next_free_port({}) == 8081);
  CHECK(model::next_free_port({8081, 8083}) == 8082);
  CHECK(model::next_free_port({8082}) == 8081);
  // From a given port (the last one given out): the search starts there.
  CHECK(model::next_free_port({8081, 8082, 8084}, 8082) == 8083);
  CHECK(model::next_free_port({8081, 8082, 8084}, 8084) == 8085);
  CHECK(model::ports_of({at("a", 8081), at("b", 9000)}) == std::set<int>{8081, 9000});
  std::set<int> all;
  for (int port = 8081; port <= 65535; ++port) {
    all.insert(port);
  }
  CHECK(model::next_free_port(all) == 0);
  all.erase(65535);
  CHECK(model::next_free_port(all) == 65535);
}

TEST_CASE("instance rules: port range and a port used twice, as messages", "[unit]") {
  CHECK(model::port_range_complaint(1024).empty());
  CHECK(model::port_range_complaint(65535).empty());
  CHECK(model::port_range_complaint(1023) == "port 1023 is outside 1024-65535");
  CHECK(model::port_range_complaint(65536) == "port 65536 is outside 1024-65535");
  CHECK(model::port_taken_complaint(8081, "main", "cd26-team3-vm1") ==
        "port 8081 already used by instance 'main' on cd26-team3-vm1");
}

TEST_CASE("instance rules: the name derived from a version", "[unit]") {
  CHECK(model::default_instance_name("6.1.0", {}) == "v6-1-0");
  CHECK(model::default_instance_name("7.1.0-RC1", {}) == "v7-1-0-rc1");
  CHECK(model::default_instance_name("6.1.0", {at("v6-1-0", 8081)}) == "v6-1-0-2");
  CHECK(model::default_instance_name("6.1.0", {at("v6-1-0", 8081), at("v6-1-0-2", 8082)}) ==
        "v6-1-0-3");
  const std::string name = model::default_instance_name(std::string(40, '1') + ".", {});
  CHECK(name.size() <= 28);
  CHECK(name.back() != '-');
}

TEST_CASE("instance rules: the stack fits the VM's memory or not", "[unit]") {
  model::Vm vm;
  vm.memory = model::stack_footprint({at("a", 8081)});
  CHECK(model::stack_fits(vm, {at("a", 8081)}));
  CHECK(model::stack_fits(vm, {}));
  CHECK_FALSE(model::stack_fits(vm, {at("a", 8081), at("b", 8082)}));
  CHECK_FALSE(model::stack_fits(vm, {at("a", 8081, model::DbKind::postgresql)}));
}
