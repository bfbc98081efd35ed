#include "provision/plan/conflicts.hpp"

#include <catch2/catch.hpp>

#include "tests/support/labs.hpp"

using namespace labctl;
using hv::ObjectKind;
using plan::Conflict;

namespace {

constexpr const char* k_identity = "0123456789abcdef0123456789abcdef";

hv::Object object(ObjectKind kind, const std::string& name, hv::Tag tag = {}) {
  hv::Object out;
  out.kind = kind;
  out.name = name;
  out.tag = std::move(tag);
  return out;
}

std::string message_of(const Status& status) {
  return status ? "" : status.error().message;
}

}  // namespace

TEST_CASE("plan_up reports names held by what is not the classroom's as conflicts", "[unit]") {
  model::Lab lab = testing::small_lab("lct", 2, 1);
  lab.identity = k_identity;
  hv::Inventory inv;
  inv.others.push_back(object(ObjectKind::domain, "lct-team1-vm1"));  // defined by hand
  inv.others.push_back(object(ObjectKind::network, "lct-team1-lan", {"other", "", "network", ""}));
  inv.others.push_back(object(ObjectKind::pool, "lct-pool"));
  hv::Object hold = object(ObjectKind::network, "hold");
  hold.bridge = "lct-team1-lab";  // the bridge device the lab's network lct-team1-lab names
  inv.others.push_back(hold);

  SECTION("each held name, with its holder; never an action on it") {
    const plan::Plan p = plan::plan_up(lab, inv, {.teams = {"team1"}});
    CHECK(
        p.conflicts ==
        std::vector<Conflict>{
            {"pool", "lct-pool", "", "", "a pool that is not labctl's", false},
            {"network", "lct-team1-lan", "team1", "", "a network of labctl classroom other", false},
            {"bridge", "lct-team1-lab", "team1", "",
             "used by network hold, a network that is not labctl's", false},
            {"vm", "lct-team1-vm1", "team1", "vm1", "a domain that is not labctl's", false},
        });
    const Status refused = plan::refuse_conflicts(p.conflicts, "qemu:///system", true);
    CHECK_THAT(message_of(refused),
               Catch::Contains("qemu:///system: refusing to change anything") &&
                   Catch::Contains("vm lct-team1-vm1: a domain that is not labctl's") &&
                   Catch::Contains("never redefines, starts or deletes"));
  }
  SECTION("only the scope's teams' names (and the classroom's pool)") {
    CHECK(plan::plan_up(lab, inv, {.teams = {"team2"}}).conflicts ==
          std::vector<Conflict>{{"pool", "lct-pool", "", "", "a pool that is not labctl's"}});
  }
  SECTION("a host device of a created network's bridge name, unless our network uses it") {
    hv::Inventory devices;
    devices.devices = std::vector<std::string>{"eth0", "lct-team2-lan"};
    CHECK(plan::plan_up(lab, devices, {.teams = {"team2"}}).conflicts ==
          std::vector<Conflict>{{"bridge", "lct-team2-lan", "team2", "",
                                 "a host network device that is not labctl's"}});
    hv::Object ours =
        object(ObjectKind::network, "lct-team2-lan", {"lct", "team2", "network", "", k_identity});
    ours.bridge = "lct-team2-lan";
    devices.objects.push_back(ours);
    CHECK(plan::plan_up(lab, devices, {.teams = {"team2"}}).conflicts.empty());
  }
}

TEST_CASE("the classroom's objects of another identity are conflicts that --adopt takes",
          "[unit]") {
  model::Lab lab = testing::small_lab("lct", 1, 1);
  lab.identity = k_identity;
  hv::Inventory inv;
  inv.objects.push_back(object(ObjectKind::pool, "lct-pool", {"lct", "", "pool", ""}));
  inv.objects.push_back(object(ObjectKind::volume, "lct-base.qcow2", {"lct", "", "base", ""}));
  inv.objects.push_back(
      object(ObjectKind::domain, "lct-team1-vm1", {"lct", "team1", "domain", "", "feedc0de"}));
  inv.objects.push_back(object(ObjectKind::network, "lct-team1-lan", {"lct", "team1", "network"}));
  const std::vector<Conflict> expected{
      {"network", "lct-team1-lan", "team1", "",
       "classroom lct's, tagged before classrooms had identities", true},
      {"vm", "lct-team1-vm1", "team1", "", "classroom lct of another lab file (identity feedc0de)",
       true},
  };

  SECTION("up and down both see them; pools and volumes are the classroom's by path") {
    CHECK(plan::plan_up(lab, inv, {.all = true}).conflicts == expected);
    CHECK(plan::plan_down(lab, inv, {.all = true}).conflicts == expected);
    CHECK(plan::adoptable_objects(lab, inv).size() == 2);
  }
  SECTION("down of one team sees only that team's") {
    CHECK(plan::plan_down(lab, inv, {.teams = {"team1"}}).conflicts == expected);
    inv.objects.push_back(
        object(ObjectKind::domain, "lct-team2-vm1", {"lct", "team2", "domain", "", "feedc0de"}));
    CHECK(plan::plan_down(lab, inv, {.teams = {"team1"}}).conflicts == expected);
    CHECK(plan::plan_down(lab, inv, {.teams = {"team2"}}).conflicts ==
          std::vector<Conflict>{{"vm", "lct-team2-vm1", "team2", "",
                                 "classroom lct of another lab file (identity feedc0de)", true}});
  }
  SECTION("refused unless --adopt") {
    CHECK_THAT(message_of(plan::refuse_conflicts(expected, "test:///default", false)),
               Catch::Contains("network lct-team1-lan: classroom lct's, tagged before") &&
                   Catch::Contains("give --adopt"));
    CHECK(plan::refuse_conflicts(expected, "test:///default", true).ok());
  }
  SECTION("a lab without an identity yet (no `up` so far) adopts even untagged ones") {
    lab.identity.clear();
    CHECK(plan::plan_down(lab, inv, {.all = true}).conflicts.size() == 2);
  }
  SECTION("none once they carry the lab's identity") {
    for (hv::Object& o : inv.objects) {
      o.tag.identity = k_identity;
    }
    CHECK(plan::plan_up(lab, inv, {.all = true}).conflicts.empty());
    CHECK(plan::adoptable_objects(lab, inv).empty());
  }
}

TEST_CASE("check_bridges: a bridge that the lab joins must exist on the host", "[unit]") {
  model::Lab lab = testing::small_lab("lct", 2, 1);
  for (model::Team& team : lab.teams) {
    team.networks[1].kind = model::NetworkKind::bridge;
    team.networks[1].bridge = "br-hold";
    team.networks[1].subnet.reset();
  }
  hv::Inventory inv;
  inv.host = "qemu:///system";
  SECTION("nothing is checked when the backend cannot list devices") {
    CHECK(plan::check_bridges(lab, inv, {.all = true}).ok());
  }
  SECTION("missing: every network that joins it is named") {
    inv.devices = std::vector<std::string>{"eth0"};
    CHECK(message_of(plan::check_bridges(lab, inv, {.teams = {"team2"}})) ==
          "fixture.yaml: bridges that the lab joins do not exist on qemu:///system:\n"
          "  network lct-team2-lab (bridge) joins br-hold\n"
          "labctl never creates them: create them on the host (Hyper-V: an External switch), or "
          "name an existing one in `bridge:`");
  }
  SECTION("present") {
    inv.devices = std::vector<std::string>{"eth0", "br-hold"};
    CHECK(plan::check_bridges(lab, inv, {.all = true}).ok());
  }
}
