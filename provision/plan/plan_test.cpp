#include "provision/plan/plan.hpp"

#include <algorithm>

#include <catch2/catch.hpp>

#include "provision/model/access.hpp"
#include "tests/support/labs.hpp"

using namespace labctl;
using plan::Op;
using plan::Role;

namespace {

// The inventory that a complete, converged `up --all` of `lab` leaves behind.
hv::Inventory converged(const model::Lab& lab) {
  hv::Inventory inv;
  auto add = [&](hv::ObjectKind kind, const std::string& name, hv::Tag tag) {
    hv::Object object;
    object.kind = kind;
    object.name = name;
    object.tag = std::move(tag);
    object.state = hv::PowerState::running;
    if (kind == hv::ObjectKind::volume) {
      object.pool = lab.pool;
    }
    inv.objects.push_back(object);
    return &inv.objects.back();
  };
  add(hv::ObjectKind::pool, lab.pool, {lab.classroom, "", "pool", ""});
  for (const auto& name : {lab.base_volume, lab.base_kernel, lab.base_initrd}) {
    add(hv::ObjectKind::volume, name, {});
  }
  for (const auto& team : lab.teams) {
    for (const auto& net : team.networks) {
      add(hv::ObjectKind::network, net.name,
          {lab.classroom, team.name, "network", model::network_spec_hash(net), lab.identity});
    }
    for (const auto& vm : team.vms) {
      add(hv::ObjectKind::volume, vm.seed_volume, {});
      add(hv::ObjectKind::volume, vm.disk_volume, {});
      auto* dom = add(hv::ObjectKind::domain, vm.name,
                      {lab.classroom, team.name, "domain", vm.spec_hash, lab.identity});
      dom->memory = vm.memory;
      dom->vcpus = vm.vcpus;
    }
  }
  return inv;
}

std::vector<std::string> lines(const plan::Plan& p) {
  std::vector<std::string> out;
  for (const auto& a : p.actions) {
    out.push_back(plan::to_string(a.op) + " " + plan::to_string(a.role) + " " + a.name + " (" +
                  a.reason + ")");
  }
  return out;
}

}  // namespace

TEST_CASE("plan_up on an empty host creates networks, then volumes, then VMs", "[unit]") {
  const auto lab = testing::small_lab("lct", 1, 2);
  const auto p = plan::plan_up(lab, {}, {.all = true});
  CHECK(lines(p) == std::vector<std::string>{
                        "create network lct-team1-lan (create)",
                        "create network lct-team1-lab (create)",
                        "create pool lct-pool (create)",
                        "create base-disk lct-base.qcow2 (create)",
                        "create base-kernel lct-base-vmlinuz (create)",
                        "create base-initrd lct-base-initrd.img (create)",
                        "create seed lct-team1-vm1-seed.iso (create)",
                        "create disk lct-team1-vm1.qcow2 (create)",
                        "create seed lct-team1-vm2-seed.iso (create)",
                        "create disk lct-team1-vm2.qcow2 (create)",
                        "create vm lct-team1-vm1 (create)",
                        "create vm lct-team1-vm2 (create)",
                        "start vm lct-team1-vm1 (start)",
                        "start vm lct-team1-vm2 (start)",
                    });
}

TEST_CASE("plan_up is empty when everything is converged", "[unit]") {
  auto lab = testing::small_lab();
  lab.identity = "0123456789abcdef0123456789abcdef";
  CHECK(plan::plan_up(lab, converged(lab), {.all = true}).empty());
  CHECK(plan::plan_up(lab, converged(lab), {.all = true}).conflicts.empty());
  CHECK(plan::plan_up(lab, converged(lab), {.teams = {"team2"}}).empty());
}

TEST_CASE("plan_up explains what changed", "[unit]") {
  auto lab = testing::small_lab("lct", 1, 1);
  auto inv = converged(lab);
  SECTION("a changed memory cap recreates the VM and its volumes") {
    lab.teams[0].vms[0].memory = 1 * model::k_gib;
    lab.teams[0].vms[0].spec_hash = "000000000001";
    CHECK(lines(plan::plan_up(lab, inv, {.all = true})) ==
          std::vector<std::string>{
              "recreate seed lct-team1-vm1-seed.iso (recreate: memory changed 2GiB -> 1GiB)",
              "recreate disk lct-team1-vm1.qcow2 (recreate: memory changed 2GiB -> 1GiB)",
              "recreate vm lct-team1-vm1 (recreate: memory changed 2GiB -> 1GiB)",
              "start vm lct-team1-vm1 (start)",
          });
  }
  SECTION("a stopped VM is started") {
    inv.objects.back().state = hv::PowerState::off;
    CHECK(lines(plan::plan_up(lab, inv, {.all = true})) ==
          std::vector<std::string>{"start vm lct-team1-vm1 (start: VM is off)"});
  }
  SECTION("a VM removed from the lab file is deleted, with its volumes") {
    lab.teams[0].vms.clear();
    CHECK(lines(plan::plan_up(lab, inv, {.teams = {"team1"}})) ==
          std::vector<std::string>{
              "delete vm lct-team1-vm1 (delete: not in lab file)",
              "delete seed lct-team1-vm1-seed.iso (delete: not in lab file)",
              "delete disk lct-team1-vm1.qcow2 (delete: not in lab file)",
          });
  }
  SECTION("a changed network is recreated") {
    lab.teams[0].networks[0].bridge = "other";
    CHECK(lines(plan::plan_up(lab, inv, {.all = true})) ==
          std::vector<std::string>{
              "recreate network lct-team1-lan (recreate: network settings changed)"});
  }
}

TEST_CASE("plan_down deletes only the scope's tagged objects, in reverse order", "[unit]") {
  const auto lab = testing::small_lab("lct", 2, 1);
  const auto inv = converged(lab);
  SECTION("one team") {
    CHECK(lines(plan::plan_down(lab, inv, {.teams = {"team2"}})) ==
          std::vector<std::string>{
              "delete vm lct-team2-vm1 (delete)",
              "delete seed lct-team2-vm1-seed.iso (delete)",
              "delete disk lct-team2-vm1.qcow2 (delete)",
              "delete network lct-team2-lab (delete)",
              "delete network lct-team2-lan (delete)",
          });
  }
  SECTION("the order is the same whatever order the host lists its objects in") {
    auto reversed = inv;
    std::reverse(reversed.objects.begin(), reversed.objects.end());
    CHECK(lines(plan::plan_down(lab, reversed, {.all = true})) ==
          lines(plan::plan_down(lab, inv, {.all = true})));
  }
  SECTION("all: VMs, then volumes, then the pool, then networks") {
    const auto all = lines(plan::plan_down(lab, inv, {.all = true}));
    REQUIRE(all.size() == inv.objects.size());
    CHECK(all[0] == "delete vm lct-team1-vm1 (delete)");
    CHECK(all[1] == "delete vm lct-team2-vm1 (delete)");
    CHECK(all[9] == "delete pool lct-pool (delete)");
    CHECK(all[10] == "delete network lct-team1-lab (delete)");
    CHECK(all.back() == "delete network lct-team2-lan (delete)");
  }
}

TEST_CASE("plan_reset recreates a VM from first boot", "[unit]") {
  const auto lab = testing::small_lab("lct", 1, 2);
  CHECK(lines(plan::plan_reset(lab, converged(lab), "team1", "vm2")) ==
        std::vector<std::string>{
            "recreate seed lct-team1-vm2-seed.iso (recreate: reset to first boot)",
            "recreate disk lct-team1-vm2.qcow2 (recreate: reset to first boot)",
            "recreate vm lct-team1-vm2 (recreate: reset to first boot)",
            "start vm lct-team1-vm2 (start)",
        });
}

TEST_CASE("format_size picks the largest exact unit", "[unit]") {
  CHECK(plan::format_size(2 * model::k_gib) == "2GiB");
  CHECK(plan::format_size(1536 * model::k_mib) == "1536MiB");
  CHECK(plan::format_size(4096) == "4KiB");
  CHECK(plan::format_size(100) == "100B");
}

TEST_CASE("published endpoints are objects of the plan", "[unit]") {
  auto lab = testing::small_lab("lct", 2, 1);
  lab.identity = "0123abcd";
  lab.access.enabled = true;
  lab.access.host = "lab.school.lan";
  auto inv = converged(lab);
  inv.publishes = true;
  const auto hash = [&](const std::string& team) {
    return model::endpoints_hash(model::forwarded_endpoints(lab, team));
  };
  auto add_forward = [&](const std::string& team, const std::string& identity) {
    hv::Object object;
    object.kind = hv::ObjectKind::forward;
    object.name = hv::forward_name("lct", team);
    object.tag = {"lct", team, "forward", hash(team), identity};
    object.state = hv::PowerState::running;
    inv.objects.push_back(object);
    return &inv.objects.back();
  };
  SECTION("created per team, last, when the host can publish") {
    CHECK(lines(plan::plan_up(lab, inv, {.all = true})) ==
          std::vector<std::string>{"create access lct-team1-access (create)",
                                   "create access lct-team2-access (create)"});
    inv.publishes = false;
    CHECK(plan::plan_up(lab, inv, {.all = true}).empty());
  }
  SECTION("converged, changed, incomplete") {
    add_forward("team1", lab.identity);
    hv::Object* team2 = add_forward("team2", lab.identity);
    CHECK(plan::plan_up(lab, inv, {.all = true}).empty());
    team2->state = hv::PowerState::off;
    CHECK(lines(plan::plan_up(lab, inv, {.teams = {"team2"}})) ==
          std::vector<std::string>{
              "recreate access lct-team2-access (recreate: forwarding missing or shadowed on "
              "the host)"});
    team2->tag.spec_hash = "000000000000";
    CHECK(lines(plan::plan_up(lab, inv, {.teams = {"team2"}})) ==
          std::vector<std::string>{
              "recreate access lct-team2-access (recreate: published ports changed)"});
  }
  SECTION("down deletes the team's first; another identity's are never touched") {
    add_forward("team1", lab.identity);
    add_forward("team2", "ffff");
    const auto down = lines(plan::plan_down(lab, inv, {.all = true}));
    CHECK(down.front() == "delete access lct-team1-access (delete)");
    CHECK(std::count_if(down.begin(), down.end(), [](const std::string& line) {
            return line.find("access") != std::string::npos;
          }) == 1);
  }
  SECTION("without access: in the lab any left are deleted") {
    add_forward("team1", lab.identity);
    lab.access.enabled = false;
    CHECK(lines(plan::plan_up(lab, inv, {.teams = {"team1"}})) ==
          std::vector<std::string>{"delete access lct-team1-access (delete: not in lab file)"});
  }
}
