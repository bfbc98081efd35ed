#include "hypervisors/hyperv/parse.hpp"

#include <catch2/catch.hpp>

namespace hy = labctl::hv::hyperv;
using labctl::hv::Inventory;
using labctl::hv::Object;
using labctl::hv::ObjectKind;
using labctl::hv::PowerState;
using nlohmann::json;

namespace {

const char* const k_vm1_notes = "labctl:v1 classroom=cd26 team=team1 role=domain spec=5f3a9c01";

// What the inventory script prints on Windows PowerShell 5.1 when State was not converted
// (a number), with one-element lists written as bare objects.
const char* const k_ps51_inventory = R"({"Pool":true,
  "Vms":{"Name":"cd26-team1-vm1","State":2,"Notes":"labctl:v1 classroom=cd26 team=team1 role=domain spec=5f3a9c01",
         "MemoryStartup":2147483648,"ProcessorCount":2},
  "Switches":{"Name":"cd26-team1-lan","SwitchType":1,"Address":"10.61.1.1/24",
              "Notes":"labctl:v1 classroom=cd26 team=team1 role=network spec=04b3f5084915"},
  "Files":{"Name":"cd26-base.vhdx","Length":1073741824},
  "Nat":{"Name":"cd26-nat","Prefix":"10.61.0.0/16"}})";

std::vector<std::string> names(const Inventory& inventory) {
  std::vector<std::string> out;
  for (const Object& object : inventory.objects) {
    out.push_back(labctl::hv::to_string(object.kind) + " " + object.name);
  }
  return out;
}

}  // namespace

TEST_CASE("VM states parse from strings and from PowerShell 5.1's numbers", "[unit]") {
  CHECK(hy::parse_vm_state("Running") == PowerState::running);
  CHECK(hy::parse_vm_state(2) == PowerState::running);
  CHECK(hy::parse_vm_state("Off") == PowerState::off);
  CHECK(hy::parse_vm_state(3) == PowerState::off);
  CHECK(hy::parse_vm_state("Paused") == PowerState::paused);
  CHECK(hy::parse_vm_state(9) == PowerState::paused);
  CHECK(hy::parse_vm_state("Saved") == PowerState::other);
  CHECK(hy::parse_vm_state(6) == PowerState::other);
  CHECK(hy::parse_vm_state(json()) == PowerState::other);
  CHECK(hy::parse_vm_state("running") == PowerState::other);  // the enum's names are exact
}

TEST_CASE("inventory JSON parses into tagged objects only", "[unit]") {
  SECTION("the documented shape: arrays, states as strings") {
    const json doc = {
        {"Pool", true},
        {"Vms",
         {{{"Name", "cd26-team1-vm1"},
           {"State", "Running"},
           {"Notes", k_vm1_notes},
           {"MemoryStartup", 2147483648ULL},
           {"ProcessorCount", 2}},
          {{"Name", "cd26-team1-vm2"},
           {"State", "Off"},
           {"Notes", "labctl:v1 classroom=cd26 team=team1 role=domain spec=pending"},
           {"MemoryStartup", 1073741824},
           {"ProcessorCount", 1}}}},
        {"Switches",
         {{{"Name", "cd26-team1-lab"},
           {"SwitchType", "Private"},
           {"Address", ""},
           {"Notes",
            "labctl:v1 classroom=cd26 team=team1 role=network spec=isolated:10.61.2.0/24"}}}},
        {"Files",
         {{{"Name", "cd26-base.vhdx"}},
          {{"Name", "cd26-team1-vm1.vhdx"}},
          {{"Name", "cd26-team1-vm1-seed.iso"}},
          {{"Name", ".labctl-pool"}}}}};
    auto inventory = hy::parse_inventory(doc.dump(), "cd26");
    REQUIRE(inventory.ok());
    CHECK(names(*inventory) ==
          std::vector<std::string>{"pool cd26-pool", "volume cd26-base.qcow2",
                                   "volume cd26-team1-vm1.qcow2", "volume cd26-team1-vm1-seed.iso",
                                   "network cd26-team1-lab", "domain cd26-team1-vm1",
                                   "domain cd26-team1-vm2"});
    const Object* vm1 = inventory->find(ObjectKind::domain, "cd26-team1-vm1");
    REQUIRE(vm1 != nullptr);
    CHECK(vm1->state == PowerState::running);
    CHECK(vm1->memory == 2147483648ULL);
    CHECK(vm1->vcpus == 2);
    CHECK(vm1->tag.team == "team1");
    CHECK(vm1->tag.role == "domain");
    CHECK(vm1->tag.spec_hash == "5f3a9c01");
    CHECK(inventory->find(ObjectKind::domain, "cd26-team1-vm2")->tag.spec_hash == "pending");
    const Object* lab = inventory->find(ObjectKind::network, "cd26-team1-lab");
    CHECK(lab->cidr == "10.61.2.0/24");
    CHECK(lab->state == PowerState::running);
    const Object* base = inventory->find(ObjectKind::volume, "cd26-base.qcow2");
    CHECK(base->pool == "cd26-pool");
    CHECK(base->tag.role == "base");
    const Object* seed = inventory->find(ObjectKind::volume, "cd26-team1-vm1-seed.iso");
    CHECK(seed->tag.role == "seed");
    CHECK(seed->tag.team == "team1");
    CHECK(inventory->find(ObjectKind::volume, "cd26-team1-vm1.qcow2")->tag.role == "disk");
  }
  SECTION("PowerShell 5.1: enums as numbers, one-element lists as bare objects") {
    auto inventory = hy::parse_inventory(k_ps51_inventory, "cd26");
    REQUIRE(inventory.ok());
    CHECK(names(*inventory) == std::vector<std::string>{"pool cd26-pool", "volume cd26-base.qcow2",
                                                        "network cd26-team1-lan",
                                                        "domain cd26-team1-vm1"});
    CHECK(inventory->find(ObjectKind::domain, "cd26-team1-vm1")->state == PowerState::running);
    CHECK(inventory->find(ObjectKind::network, "cd26-team1-lan")->cidr == "10.61.1.0/24");
    CHECK(inventory->find(ObjectKind::network, "cd26-team1-lan")->state == PowerState::running);
  }
  SECTION("a nat switch without the classroom's NetNat over its subnet is inactive") {
    for (const char* nat : {R"(null)", R"({"Name":"cd26-nat","Prefix":"10.62.0.0/16"})",
                            R"({"Name":"cd26-nat","Prefix":"10.61.1.0/25"})"}) {
      INFO(nat);
      json doc = json::parse(k_ps51_inventory);
      doc["Nat"] = json::parse(nat);
      auto inventory = hy::parse_inventory(doc.dump(), "cd26");
      REQUIRE(inventory.ok());
      const Object* lan = inventory->find(ObjectKind::network, "cd26-team1-lan");
      REQUIRE(lan != nullptr);
      CHECK(lan->cidr == "10.61.1.0/24");
      CHECK(lan->state == PowerState::off);
    }
  }
  SECTION("untagged, foreign and half-tagged objects are dropped even if the script let them by") {
    const json doc = {{"Pool", true},
                      {"Vms",
                       {{{"Name", "cd26-team1-vm1-old"}, {"State", "Running"}, {"Notes", nullptr}},
                        {{"Name", "cd26-team1-vm1"},
                         {"State", 2},
                         {"Notes", "labctl:v1 classroom=cd27 team=team1 role=domain spec=x"}},
                        {{"Name", "cd26-team1-vm3"}, {"State", 3}, {"Notes", "classroom=cd26"}},
                        {{"State", 3}, {"Notes", k_vm1_notes}}}},
                      {"Switches", nullptr},
                      {"Files", json::array()}};
    auto inventory = hy::parse_inventory(doc.dump(), "cd26");
    REQUIRE(inventory.ok());
    CHECK(names(*inventory) == std::vector<std::string>{"pool cd26-pool"});
  }
  SECTION("files are not volumes when the directory is not a tagged labctl pool") {
    auto inventory = hy::parse_inventory(
        R"({"Pool":false,"Vms":[],"Switches":[],"Files":[{"Name":"cd26-base.vhdx"}]})", "cd26");
    REQUIRE(inventory.ok());
    CHECK(inventory->objects.empty());
  }
  SECTION("nothing printed, or a dry run's [], is an empty inventory") {
    CHECK(hy::parse_inventory("", "cd26")->objects.empty());
    CHECK(hy::parse_inventory(" \r\n", "cd26")->objects.empty());
    CHECK(hy::parse_inventory("[]", "cd26")->objects.empty());
  }
  SECTION("output that is not the expected JSON is an error") {
    auto garbage = hy::parse_inventory("WARNING: something\n{", "cd26");
    REQUIRE_FALSE(garbage.ok());
    CHECK_THAT(garbage.error().message, Catch::Contains("not JSON"));
    CHECK_FALSE(hy::parse_inventory("42", "cd26").ok());
    CHECK_FALSE(hy::parse_inventory("[1]", "cd26").ok());
  }
}

// Issue 13: what holds the classroom's names beside it (conflicts), the External switches a
// bridge network joins, and the identity in a tag.
TEST_CASE("inventory JSON: other VMs and switches, External switches, identities", "[unit]") {
  json doc = json::parse(k_ps51_inventory);
  doc["Vms"]["Notes"] = std::string(k_vm1_notes) + " identity=0123456789abcdef";
  doc["OtherVms"] = {{{"Name", "cd26-team1-vm2"}, {"Notes", "bought by hand"}},
                     {{"Name", "cd27-team1-vm1"},
                      {"Notes", "labctl:v1 classroom=cd27 team=team1 role=domain spec=x"}}};
  doc["OtherSwitches"] = {{"Name", "uplink"}, {"SwitchType", 2}, {"Notes", nullptr}};
  auto inventory = hy::parse_inventory(doc.dump(), "cd26");
  REQUIRE(inventory.ok());
  CHECK(inventory->find(ObjectKind::domain, "cd26-team1-vm1")->tag.identity == "0123456789abcdef");
  CHECK(inventory->find(ObjectKind::network, "cd26-team1-lan")->tag.identity.empty());
  std::vector<std::string> others;
  for (const Object& other : inventory->others) {
    others.push_back(labctl::hv::to_string(other.kind) + " " + other.name + " (" +
                     other.tag.classroom + ")");
  }
  CHECK(others == std::vector<std::string>{"domain cd26-team1-vm2 ()",
                                           "domain cd27-team1-vm1 (cd27)", "network uplink ()"});
  REQUIRE(inventory->devices.has_value());
  CHECK(*inventory->devices == std::vector<std::string>{"uplink"});
  SECTION("an answer without them (a dry run's) checks no device") {
    CHECK_FALSE(hy::parse_inventory(k_ps51_inventory, "cd26")->devices.has_value());
  }
}

TEST_CASE("host info, host networks and VM state parse", "[unit]") {
  SECTION("host info: bytes from Get-VMHost, KiB from Win32_OperatingSystem") {
    auto info = hy::parse_host_info(
        R"({"Name":"HV01","MemoryCapacity":34359738368,"FreePhysicalMemory":16777216,)"
        R"("LogicalProcessorCount":8})");
    REQUIRE(info.ok());
    CHECK(info->hostname == "HV01");
    CHECK(info->memory_total == 34359738368ULL);
    CHECK(info->memory_free == 16ULL * 1024 * 1024 * 1024);
    CHECK(info->cpus == 8);
    CHECK_FALSE(hy::parse_host_info("[]").ok());
    CHECK_FALSE(hy::parse_host_info("").ok());
  }
  SECTION("host networks: switch addresses become network CIDRs, NetNat prefixes too") {
    auto networks = hy::parse_host_networks(
        R"({"Switches":[{"Name":"Default Switch","Notes":"","Address":"172.22.96.1/20"},)"
        R"({"Name":"cd26-team1-lan","Notes":"labctl:v1 classroom=cd26 team=team1 role=network spec=nat",)"
        R"("Address":"10.61.1.1/24"},{"Name":"cd26-team1-lab","Notes":null,"Address":""}],)"
        R"("Nats":[{"Name":"cd26-nat","Prefix":"10.61.0.0/16"},)"
        R"({"Name":"WinNAT","Prefix":"172.30.0.0/24"},{"Name":"-nat","Prefix":"10.9.0.0/16"}]})");
    REQUIRE(networks.ok());
    REQUIRE(networks->size() == 6);
    CHECK((*networks)[0].cidr == "172.22.96.0/20");
    CHECK((*networks)[0].classroom.empty());
    CHECK((*networks)[1].cidr == "10.61.1.0/24");
    CHECK((*networks)[1].classroom == "cd26");
    CHECK((*networks)[2].cidr.empty());
    CHECK_FALSE((*networks)[2].nat);
    // A NetNat is the classroom's by its name, <classroom>-nat; any other is foreign.
    CHECK((*networks)[3].name == "cd26-nat");
    CHECK((*networks)[3].cidr == "10.61.0.0/16");
    CHECK((*networks)[3].classroom == "cd26");
    CHECK((*networks)[3].nat);
    CHECK((*networks)[4].classroom.empty());
    CHECK((*networks)[4].nat);
    CHECK((*networks)[5].classroom.empty());
  }
  SECTION("network_cidr") {
    CHECK(hy::network_cidr("10.61.1.77/24") == "10.61.1.0/24");
    CHECK(hy::network_cidr("10.61.1.77/32") == "10.61.1.77/32");
    CHECK(hy::network_cidr("0.0.0.0/0") == "0.0.0.0/0");
    CHECK(hy::network_cidr("10.61.1.77") == "");
    CHECK(hy::network_cidr("10.61.1.256/24") == "");
    CHECK(hy::network_cidr("10.61.1.1/33") == "");
    CHECK(hy::network_cidr("10.61.1.1/24x") == "");
  }
  SECTION("VM state output") {
    CHECK(*hy::parse_vm_state_output(R"({"Name":"x","State":"Running"})") == PowerState::running);
    CHECK(*hy::parse_vm_state_output(R"({"Name":"x","State":3})") == PowerState::off);
    CHECK(*hy::parse_vm_state_output("[]") == PowerState::off);
  }
}
