#include <chrono>
#include <filesystem>
#include <set>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "provision/model/addressing.hpp"
#include "provision/model/loader.hpp"
#include "tests/support/backends.hpp"
#include "tests/support/golden.hpp"

using namespace labctl::model;
using labctl::testing::source_dir;

namespace {

// Every field of the expanded lab, one per line: determinism and golden checks use it.
std::string describe(const Lab& lab) {
  std::string out = fmt::format(
      "classroom={} title={} file={}\nimage={} build={} with={} url={} boot={} cmdline={}\n"
      "accel={} cap={} admin={} pool={} base={} kernel={} initrd={}\n"
      "docker={} mirror={} proxy={} squash={}\n",
      lab.classroom, lab.title, std::filesystem::path(lab.file).filename().string(), lab.image.name,
      lab.image.build, fmt::join(lab.image.with, ","), lab.image.url, to_string(lab.image.boot),
      lab.image.cmdline, to_string(lab.accelerator), lab.memory_cap, lab.admin_user, lab.pool,
      lab.base_volume, lab.base_kernel, lab.base_initrd, to_string(lab.docker.source),
      lab.docker.registry_mirror, lab.docker.apt_proxy, lab.squash_image);
  for (const Host& host : lab.hosts) {
    out += fmt::format("host {} reserve={} labels={}\n", host.uri, host.reserve,
                       fmt::join(host.labels, ","));
  }
  for (const Team& team : lab.teams) {
    out += fmt::format("team {} index={} host={}\n", team.name, team.index, team.host);
    for (const Network& net : team.networks) {
      out += fmt::format(
          "  network {} key={} kind={} bridge={} subnet={} gateway={} dhcp={}-{} "
          "vlan={}\n",
          net.name, net.key, to_string(net.kind), net.bridge, net.subnet ? net.subnet->cidr() : "-",
          net.gateway, net.dhcp_start, net.dhcp_end, net.vlan);
    }
    for (const Vm& vm : team.vms) {
      out += fmt::format(
          "  vm {} key={} hostname={} index={} memory={} vcpus={} disk={} disk_vol={} "
          "seed={} hash={}\n",
          vm.name, vm.key, vm.hostname, vm.index, vm.memory, vm.vcpus, vm.disk, vm.disk_volume,
          vm.seed_volume, vm.spec_hash);
      for (const Nic& nic : vm.nics) {
        out +=
            fmt::format("    nic {} key={} mac={} ip={}/{} gateway={} dns={}\n", nic.network,
                        nic.key, nic.mac, nic.ip, nic.prefix, nic.gateway, fmt::join(nic.dns, ","));
      }
      for (const Instance& in : vm.instances) {
        out += fmt::format("    instance {} version={} port={} db={} env={} image={} memory={}\n",
                           in.name, in.version, in.port, to_string(in.db), to_string(in.env),
                           in.image, in.memory);
      }
    }
  }
  return out;
}

Lab load(const std::string& name) {
  auto lab = load_lab((source_dir() / "labs" / name).string());
  INFO((lab.ok() ? std::string() : lab.error().message));
  REQUIRE(lab.ok());
  return *lab;
}

std::string error_of(const std::string& text) {
  const auto lab = parse_lab(text, "lab.yaml", labctl::testing::two_backends());
  REQUIRE_FALSE(lab.ok());
  return lab.error().message;
}

const Vm& vm_of(const Lab& lab, const std::string& team, const std::string& vm) {
  const Team* found = lab.find_team(team);
  REQUIRE(found != nullptr);
  for (const Vm& candidate : found->vms) {
    if (candidate.key == vm) {
      return candidate;
    }
  }
  FAIL("no VM " << vm);
  throw;
}

}  // namespace

TEST_CASE("every lab under labs/ loads", "[unit][model]") {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(source_dir() / "labs")) {
    if (entry.path().extension() != ".yaml" && entry.path().extension() != ".yml") {
      continue;
    }
    INFO(entry.path().string());
    const auto lab = load_lab(entry.path().string());
    INFO((lab.ok() ? std::string() : lab.error().message));
    CHECK(lab.ok());
    ++count;
  }
  CHECK(count >= 3);
}

TEST_CASE("the course classroom expands as documented", "[golden][model]") {
  const Lab lab = load("classroom.yaml");
  labctl::testing::check_golden("model/classroom.txt", describe(lab));
  CHECK(lab.teams.size() == 4);
  for (const Team& team : lab.teams) {
    REQUIRE(team.vms.size() == 4);
    for (const Vm& vm : team.vms) {
      CHECK(vm.memory == 2 * k_gib);
      CHECK(stack_footprint(vm.instances) <= vm.memory);
      CHECK(!vm.instances.empty());
    }
  }
  const Vm& vm1 = vm_of(lab, "team3", "vm1");
  CHECK(vm1.name == "cd26-team3-vm1");
  CHECK(vm1.hostname == "team3-vm1");
  CHECK(vm1.disk_volume == "cd26-team3-vm1.qcow2");
  CHECK(vm1.seed_volume == "cd26-team3-vm1-seed.iso");
  REQUIRE(vm1.nics.size() == 2);
  CHECK(vm1.nics[0].mac == "02:d7:52:03:01:00");
  CHECK(vm1.nics[0].ip == "10.146.4.11");
  CHECK(vm1.nics[0].gateway == "10.146.4.1");
  CHECK(vm1.nics[0].dns == std::vector<std::string>{"10.146.4.1"});
  CHECK(vm1.nics[1].ip == "10.146.5.11");
  CHECK(vm1.nics[1].gateway.empty());
  REQUIRE(vm1.instances.size() == 1);
  CHECK(vm1.instances[0].port == 8081);
  CHECK(vm1.instances[0].memory == k_gib);
  // One instance per VM at Squash TM's 1 GiB minimum, and still two versions per team.
  for (const Team& team : lab.teams) {
    std::set<std::string> versions;
    for (const Vm& vm : team.vms) {
      versions.insert(vm.instances[0].version);
    }
    CHECK(versions == std::set<std::string>{"5.1.0", "6.0.0"});
  }
  CHECK(lab.docker.source == DockerSource::preinstalled);
  CHECK(lab.pool == "cd26-pool");
}

TEST_CASE("expansion is deterministic", "[unit][model]") {
  for (const char* name : {"classroom.yaml", "second-classroom.yaml", "multi-host.yaml"}) {
    INFO(name);
    CHECK(describe(load(name)) == describe(load(name)));
  }
}

TEST_CASE("two classrooms on one host do not collide", "[unit][model]") {
  const Lab first = load("classroom.yaml");
  const Lab second = load("second-classroom.yaml");
  std::set<std::string> names, bridges, macs;
  std::vector<Subnet> subnets;
  std::size_t total = 0;
  for (const Lab* lab : {&first, &second}) {
    names.insert(lab->pool);
    names.insert(lab->base_volume);
    total += 2;
    for (const Team& team : lab->teams) {
      for (const Network& net : team.networks) {
        names.insert(net.name);
        bridges.insert(net.bridge);
        subnets.push_back(*net.subnet);
        total += 1;
      }
      for (const Vm& vm : team.vms) {
        names.insert(vm.name);
        names.insert(vm.disk_volume);
        names.insert(vm.seed_volume);
        total += 3;
        for (const Nic& nic : vm.nics) {
          CHECK(macs.insert(nic.mac).second);
        }
      }
    }
  }
  CHECK(names.size() == total);
  CHECK(bridges.size() == subnets.size());
  for (std::size_t i = 0; i < subnets.size(); ++i) {
    for (std::size_t j = i + 1; j < subnets.size(); ++j) {
      INFO(subnets[i].cidr() << " vs " << subnets[j].cidr());
      CHECK_FALSE(subnets[i].overlaps(subnets[j]));
    }
  }
}

TEST_CASE("bridge names fit Linux's 15 characters", "[unit][model]") {
  const std::string head = "classroom: cd2026\nteams: {count: 10}\ntemplate:\n  networks:\n";
  SECTION("the default pattern is too long here and the message gives the fix") {
    CHECK(error_of(head + "    lan: {kind: nat}\n  vms: {vm1: }\n") ==
          "lab.yaml:5:5: template.networks.lan: bridge name 'cd2026-team1-lan' is 16 "
          "characters; Linux allows 15: set template.networks.lan.bridge_name to a shorter "
          "pattern such as '{classroom}{team_index}{net}'");
  }
  SECTION("the suggested pattern fits") {
    const auto lab =
        parse_lab(head +
                      "    lan: {kind: nat, bridge_name: \"{classroom}{team_index}{net}\"}\n"
                      "  vms: {vm1: }\n",
                  "lab.yaml");
    REQUIRE(lab.ok());
    CHECK(lab->teams[9].networks[0].bridge == "cd202610lan");
  }
  SECTION("a pattern that forgets the team collides") {
    CHECK(error_of(head + "    lan: {kind: nat, bridge_name: \"{classroom}{net}\"}\n"
                          "  vms: {vm1: }\n") ==
          "lab.yaml:5:5: template.networks.lan: bridge device 'cd2026lan' of team team2, network "
          "lan is also the bridge device of team team1, network lan (lab.yaml:5:5: "
          "template.networks.lan): put {team} and {net} (or {team_index}) in bridge_name");
  }
  SECTION("a bridge labctl creates must not be a host bridge the lab uses") {
    CHECK(error_of(head + "    lan: {kind: nat, bridge_name: \"br{team_index}\"}\n"
                          "    up: {kind: bridge, bridge: br2}\n  vms: {vm1: }\n") ==
          "lab.yaml:5:5: template.networks.lan: bridge name 'br2' of cd2026-team2-lan is also "
          "used by an existing host bridge: put {team} and {net} (or {team_index}) in "
          "bridge_name");
  }
  SECTION("unknown placeholders") {
    CHECK(error_of(head + "    lan: {kind: nat, bridge_name: \"{room}{net}\"}\n"
                          "  vms: {vm1: }\n") ==
          "lab.yaml:5:5: template.networks.lan: unknown placeholder '{room}' in bridge_name "
          "(use {classroom}, {net}, {team}, {team_index})");
  }
}

TEST_CASE("two objects never get the same derived name", "[unit][model]") {
  SECTION("teams a and a-b with VMs b-c and c: both would be domain cd26-a-b-c") {
    CHECK(error_of("classroom: cd26\nteams: {names: [a, a-b]}\ntemplate:\n  networks:\n"
                   "    lan: {kind: nat, bridge_name: \"cd26{team_index}{net}\"}\n"
                   "  vms:\n    b-c: {}\n    c: {}\n") ==
          "lab.yaml:8:5: template.vms.c: domain 'cd26-a-b-c' of team a-b, VM c is also the "
          "domain of team a, VM b-c (lab.yaml:7:5: template.vms.b-c): names are joined with '-': "
          "rename a team, VM or network so that no two joined names are the same");
  }
  SECTION("networks lan and b-lan of teams a-b and a: both would be network cd26-a-b-lan") {
    CHECK(error_of("classroom: cd26\nteams: {names: [a-b, a]}\ntemplate:\n  networks:\n"
                   "    lan: {kind: nat, bridge_name: \"cd26{team_index}{net}\"}\n"
                   "    b-lan: {kind: nat, bridge_name: \"cd26{team_index}{net}\"}\n"
                   "  vms: {vm1: }\n") ==
          "lab.yaml:6:5: template.networks.b-lan: network 'cd26-a-b-lan' of team a, network "
          "b-lan is also the network of team a-b, network lan (lab.yaml:5:5: "
          "template.networks.lan): names are joined with '-': rename a team, VM or network so "
          "that no two joined names are the same");
  }
  SECTION("the default bridge names collide the same way: the network is named first") {
    CHECK(error_of("classroom: cd26\nteams: {names: [a-b, a]}\ntemplate:\n  networks:\n"
                   "    lan: {kind: nat}\n    b-lan: {kind: isolated}\n  vms: {vm1: }\n")
              .find("lab.yaml:6:5: template.networks.b-lan: network 'cd26-a-b-lan'") == 0);
  }
  SECTION("the largest classroom (250 teams of 89 VMs) has unique names") {
    std::string vms;
    for (int i = 1; i <= 89; ++i) {
      vms += fmt::format("    v{}: {{}}\n", i);
    }
    const auto lab = parse_lab(
        "classroom: cd26\nsubnets: 10.0.0.0/8\nteams: {count: 250}\n"
        "template:\n  networks:\n    lan: {kind: nat, bridge_name: "
        "\"cd26{team_index}{net}\"}\n  vms:\n" +
            vms,
        "lab.yaml");
    INFO((lab.ok() ? std::string() : lab.error().message));
    CHECK(lab.ok());
  }
}

TEST_CASE("subnets come from the pool and never overlap", "[unit][model]") {
  const std::string head = "classroom: cd26\nteams: {count: 2}\n";
  const std::string vms = "  vms: {vm1: }\n";
  SECTION("a subnet pattern without {team_index} overlaps with two teams") {
    CHECK(error_of(head +
                   "template:\n  networks:\n    lan: {kind: nat}\n"
                   "    lab: {kind: isolated, subnet: 192.168.5.0/24}\n" +
                   vms) ==
          "lab.yaml:6:35: template.networks.lab.subnet: subnet 192.168.5.0/24 of cd26-team2-lab "
          "overlaps 192.168.5.0/24 of cd26-team1-lab");
  }
  SECTION("a subnet pattern overlapping the pool's allocations") {
    CHECK(error_of("subnets: 10.1.0.0/16\n" + head +
                   "template:\n  networks:\n    lan: {kind: nat}\n"
                   "    lab: {kind: isolated, subnet: \"10.1.{team_index}.0/24\"}\n" +
                   vms) ==
          "lab.yaml:7:35: template.networks.lab.subnet: subnet 10.1.1.0/24 of cd26-team2-lan "
          "overlaps 10.1.1.0/24 of cd26-team1-lab");
  }
  SECTION("a per-team pattern expands") {
    const auto lab =
        parse_lab(head +
                      "template:\n  networks:\n"
                      "    lab: {kind: isolated, subnet: \"192.168.{team_index}.0/24\"}\n" +
                      vms,
                  "lab.yaml");
    REQUIRE(lab.ok());
    CHECK(lab->teams[1].networks[0].subnet->cidr() == "192.168.2.0/24");
    CHECK(lab->teams[1].vms[0].nics[0].ip == "192.168.2.11");
  }
  SECTION("the pool must hold every team's networks") {
    CHECK(error_of("subnets: 10.1.0.0/24\n" + head +
                   "template:\n  networks:\n"
                   "    lan: {kind: nat}\n" +
                   vms) ==
          "lab.yaml:1:10: subnets: the subnet pool 10.1.0.0/24 has room for 1 /24 networks but "
          "2 teams need 1 each: give a larger pool in subnets:");
  }
  SECTION("a bridge network with a subnet gives static addresses, without one the LAN's DHCP") {
    const auto lab = parse_lab(head +
                                   "template:\n  networks:\n"
                                   "    lan: {kind: nat}\n"
                                   "    campus: {kind: bridge, bridge: br0}\n"
                                   "    lab: {kind: bridge, bridge: br1, subnet: "
                                   "\"192.168.{team_index}.0/24\"}\n" +
                                   vms,
                               "lab.yaml");
    REQUIRE(lab.ok());
    const Vm& vm = lab->teams[1].vms[0];
    CHECK(vm.nics[1].ip.empty());
    CHECK(vm.nics[1].dhcp);
    CHECK(vm.nics[2].ip == "192.168.2.11");
    CHECK_FALSE(vm.nics[2].dhcp);
    CHECK(vm.nics[2].gateway.empty());  // the default route stays the nat NIC's
    CHECK(vm.nics[0].gateway == lab->teams[1].networks[0].gateway);
    CHECK(error_of(head +
                   "template:\n  networks:\n"
                   "    lab: {kind: bridge, bridge: br1, subnet: 192.168.7.0/24}\n" +
                   vms) ==
          "lab.yaml:5:46: template.networks.lab.subnet: subnet 192.168.7.0/24 of "
          "cd26-team2-lab overlaps 192.168.7.0/24 of cd26-team1-lab");
  }
  SECTION("bridge and ovs networks have no addresses; ovs gets a VLAN per team") {
    const auto lab = parse_lab(head +
                                   "template:\n  networks:\n"
                                   "    up: {kind: bridge, bridge: br0}\n"
                                   "    sw: {kind: ovs, bridge: ovsbr0, vlan: 100}\n" +
                                   vms,
                               "lab.yaml");
    REQUIRE(lab.ok());
    const Team& team = lab->teams[1];
    CHECK(team.networks[0].bridge == "br0");
    CHECK_FALSE(team.networks[0].subnet.has_value());
    CHECK(team.networks[1].vlan == 102);
    CHECK(team.vms[0].nics[0].ip.empty());
    CHECK(team.vms[0].nics[0].dhcp);
    CHECK_FALSE(team.vms[0].nics[1].dhcp);
    CHECK(team.vms[0].nics[1].mac == "02:d7:52:02:01:01");
  }
}

TEST_CASE("VM and team rules at expansion", "[unit][model]") {
  const std::string head =
      "classroom: cd26\nteams: {count: 2}\ntemplate:\n  networks:\n"
      "    lan: {kind: nat}\n  vms:\n";
  SECTION("the stack must fit in the VM's memory") {
    CHECK(error_of(head + "    vm1:\n      memory: 1GiB\n      instances:\n"
                          "        - {name: main, version: 6.0.0}\n"
                          "        - {name: legacy, version: 5.1.0}\n") ==
          "lab.yaml:7:5: template.vms.vm1: VM cd26-team1-vm1: its Squash TM stack needs more "
          "than its 1GiB: 256MiB guest + 128MiB Docker + 1GiB main + 128MiB main's database + "
          "1GiB legacy + 128MiB legacy's database = 2688MiB (lower squashtm.memory or an "
          "instance's memory, use db: h2, or move an instance to another VM)");
    CHECK(error_of(head + "    vm1:\n      memory: 2GiB\n      instances:\n"
                          "        - {name: main, version: 6.0.0, memory: 768MiB}\n"
                          "        - {name: legacy, version: 5.1.0, db: h2}\n") ==
          "lab.yaml:7:5: template.vms.vm1: VM cd26-team1-vm1: its Squash TM stack needs more "
          "than its 2GiB: 256MiB guest + 128MiB Docker + 768MiB main + 128MiB main's database + "
          "1GiB legacy = 2304MiB (lower squashtm.memory or an instance's memory, use db: h2, or "
          "move an instance to another VM)");
  }
  SECTION("squashtm.memory lowers every instance's default; an instance's memory wins") {
    auto lab = parse_lab("squashtm: {memory: 640MiB, proxy: true, autoheal: true}\n" + head +
                             "    vm1:\n      instances:\n"
                             "        - {name: main, version: 6.0.0}\n"
                             "        - {name: legacy, version: 5.1.0, memory: 512MiB}\n",
                         "lab.yaml");
    REQUIRE(lab.ok());
    const Vm& vm = lab->teams[0].vms[0];
    CHECK(vm.instances[0].memory == 640 * k_mib);
    CHECK(vm.instances[1].memory == 512 * k_mib);
    CHECK(stack_footprint(vm.instances) == 1792 * k_mib);
    CHECK(lab->squash_proxy);
    CHECK(lab->squash_autoheal);
    CHECK(error_of("squashtm: {memory: 256MiB}\n" + head + "    vm1:\n") ==
          "lab.yaml:1:20: squashtm.memory: instance memory 256MiB is below 512MiB or not a whole "
          "number of MiB (Squash TM documents 1GiB as its minimum)");
    CHECK(error_of("squashtm: {proxy: yes please}\n" + head + "    vm1:\n")
              .starts_with("lab.yaml:1:19: squashtm.proxy: "));
  }
  SECTION("unknown network in a VM's list") {
    CHECK(error_of(head + "    vm1: {networks: [lna]}\n") ==
          "lab.yaml:7:22: template.vms.vm1.networks[0]: unknown network 'lna' (did you mean "
          "'lan'?)");
  }
  SECTION("overrides name known teams and VMs") {
    CHECK(error_of(head + "    vm1:\n" + "teams:\n  count: 2\n  overrides:\n    team9: {}\n") ==
          "lab.yaml:8:1: teams: duplicate key");
    const std::string base =
        "classroom: cd26\ntemplate:\n  networks:\n    lan: {kind: nat}\n"
        "  vms:\n    vm1:\nteams:\n  count: 2\n  overrides:\n";
    CHECK(error_of(base + "    team9: {}\n") ==
          "lab.yaml:10:5: teams.overrides.team9: unknown team 'team9' (did you mean 'team1'?)");
    CHECK(error_of(base + "    team2: {vms: {vm7: {vcpus: 2}}}\n") ==
          "lab.yaml:10:19: teams.overrides.team2.vms.vm7: unknown VM 'vm7' (did you mean "
          "'vm1'?)");
    CHECK(error_of("hosts: [{uri: qemu:///system}]\n" + base +
                   "    team2: {host: qemu+ssh://big/system}\n") ==
          "lab.yaml:11:19: teams.overrides.team2.host: host 'qemu+ssh://big/system' is not in "
          "hosts:");
  }
  SECTION("overrides change one team's VM only") {
    const auto lab = parse_lab(
        "classroom: cd26\ntemplate:\n  networks:\n    lan: {kind: nat}\n  vms:\n    vm1:\n"
        "teams:\n  count: 2\n  overrides:\n    team2:\n      vms:\n        vm1:\n"
        "          memory: 1GiB\n          instances: [{name: solo, version: 1.22.2, db: h2, "
        "memory: 512MiB}]\n",
        "lab.yaml");
    REQUIRE(lab.ok());
    CHECK(lab->teams[0].vms[0].memory == 2 * k_gib);
    CHECK(lab->teams[0].vms[0].instances.empty());
    CHECK(lab->teams[1].vms[0].memory == k_gib);
    REQUIRE(lab->teams[1].vms[0].instances.size() == 1);
    CHECK(lab->teams[1].vms[0].instances[0].name == "solo");
  }
  SECTION("automatic ports skip explicit ones") {
    const auto lab = parse_lab("squashtm: {memory: 512MiB}\n" + head +
                                   "    vm1:\n      instances:\n"
                                   "        - {name: a, version: 6.0.0, db: h2}\n"
                                   "        - {name: b, version: 6.0.0, db: h2, port: 8082}\n"
                                   "        - {name: c, version: 6.0.0, db: h2}\n",
                               "lab.yaml");
    REQUIRE(lab.ok());
    const auto& instances = lab->teams[0].vms[0].instances;
    CHECK(instances[0].port == 8081);
    CHECK(instances[1].port == 8082);
    CHECK(instances[2].port == 8083);
  }
}

TEST_CASE("Hyper-V: one NetNat per classroom holds every nat network", "[unit][model]") {
  const std::string vms = "  vms: {vm1: }\n";
  const std::string efi = "image: {build: debian-12, boot: efi}\n";  // Hyper-V boots no kernel
  SECTION("the course's four teams with a nat network each fit one Hyper-V host") {
    CHECK(parse_lab("classroom: cd26\nhosts: [{uri: \"hyperv://hv1\"}]\nteams: {count: 4}\n"
                    "template:\n  networks:\n    lan: {kind: nat}\n    lab: {kind: isolated}\n" +
                        vms + efi,
                    "lab.yaml", labctl::testing::two_backends())
              .ok());
  }
  SECTION("nat subnets that only 0.0.0.0/0 covers are refused where Hyper-V is used") {
    const std::string tail =
        "teams: {count: 2}\ntemplate:\n  networks:\n    lan: {kind: nat}\n"
        "    wan: {kind: nat, subnet: \"192.168.{team_index}.0/24\"}\n" +
        vms;
    const std::string lan1 = default_pool("cd26").address(0) + "/24";
    CHECK(error_of("classroom: cd26\nhosts: [{uri: \"hyperv://hv1\"}]\n" + tail + efi) ==
          "lab.yaml:7:30: template.networks.wan.subnet: on Hyper-V the classroom's nat networks "
          "share one NetNat, whose prefix must hold them all: " +
              lan1 +
              " (cd26-team1-lan) and "
              "192.168.1.0/24 (cd26-team1-wan) are only held together by 0.0.0.0/0, wider than /8: "
              "give every nat network a subnet inside one /8, or leave subnet: out to take them "
              "from the pool");
    CHECK(error_of("classroom: cd26\nhosts: [{uri: qemu:///system}, {uri: \"hyperv://hv1\"}]\n"
                   "teams:\n  count: 2\n  overrides:\n    team2: {host: \"hyperv://hv1\"}\n"
                   "template:\n  networks:\n    lan: {kind: nat}\n"
                   "    wan: {kind: nat, subnet: \"192.168.{team_index}.0/24\"}\n" +
                   vms + efi)
              .starts_with("lab.yaml:10:30: template.networks.wan.subnet: on Hyper-V"));
    // libvirt has a NAT per network: the same lab is fine there.
    CHECK(parse_lab("classroom: cd26\n" + tail, "lab.yaml", labctl::testing::two_backends()).ok());
  }
}

TEST_CASE("the spec hash follows what forces a VM's recreation", "[unit][model]") {
  const std::string head =
      "classroom: cd26\nteams: {count: 1}\ntemplate:\n  networks:\n"
      "    lan: {kind: nat}\n  vms:\n    vm1:\n";
  auto hash = [&](const std::string& body) {
    const auto lab = parse_lab(head + body, "lab.yaml");
    REQUIRE(lab.ok());
    return lab->teams[0].vms[0].spec_hash;
  };
  const std::string base = hash("      memory: 2GiB\n");
  CHECK(base.size() == 12);
  CHECK(base.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(hash("      memory: 2048MiB\n") == base);
  CHECK(hash("      memory: 2GiB\n      instances: [{name: x, version: 6.0.0}]\n") == base);
  CHECK(hash("      memory: 1GiB\n") != base);
  CHECK(hash("      memory: 2GiB\n      vcpus: 2\n") != base);
  CHECK(hash("      memory: 2GiB\n      disk: 20GiB\n") != base);
}

TEST_CASE("a missing lab file is a lab error", "[unit][model]") {
  const auto lab = load_lab("/nonexistent/lct-model.yaml");
  REQUIRE_FALSE(lab.ok());
  CHECK(lab.error().kind == labctl::ErrorKind::lab);
  CHECK(lab.error().message ==
        "/nonexistent/lct-model.yaml: cannot read the lab file: No such file or directory");
}
