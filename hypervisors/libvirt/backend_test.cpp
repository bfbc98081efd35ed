#include "hypervisors/libvirt/backend.hpp"

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>

#include <catch2/catch.hpp>

#include "provision/plan/conflicts.hpp"
#include "tests/support/golden.hpp"
#include "tests/support/labs.hpp"

// test:///default keeps its state per connection: each test does everything on one
// LibvirtHypervisor.

namespace {

using namespace labctl;
using namespace labctl::hv;
using labctl::hv::libvirt::LibvirtHypervisor;
using labctl::testing::libvirt_lab;

std::unique_ptr<LibvirtHypervisor> open_test_driver() {
  auto opened = LibvirtHypervisor::open("test:///default", {.pool_root = "/lct-libvirt-pools"});
  INFO((opened ? "" : opened.error().message));
  REQUIRE(opened.ok());
  return std::move(*opened);
}

void require_ok(const Status& status) {
  INFO((status ? "" : status.error().message));
  REQUIRE(status.ok());
}

// Everything the lab needs, made the way the apply engine will: pool, base volumes,
// networks, then per VM an overlay, a seed and the domain.
void build_lab(LibvirtHypervisor& hv, const model::Lab& lab) {
  require_ok(hv.create_pool(lab));
  require_ok(hv.create_volume(lab.pool, lab.base_volume, VolumeFormat::qcow2, model::k_gib));
  require_ok(hv.create_volume(lab.pool, lab.base_kernel, VolumeFormat::raw, 8 * model::k_mib));
  require_ok(hv.create_volume(lab.pool, lab.base_initrd, VolumeFormat::raw, 8 * model::k_mib));
  for (const model::Team& team : lab.teams) {
    for (const model::Network& net : team.networks) {
      require_ok(hv.create_network(lab, net));
    }
    for (const model::Vm& vm : team.vms) {
      require_ok(hv.create_overlay(lab.pool, vm.disk_volume, lab.base_volume, vm.disk));
      require_ok(hv.create_volume(lab.pool, vm.seed_volume, VolumeFormat::raw, 4096));
      require_ok(hv.create_domain({&lab, &vm, "qemu", "/tmp/lct-libvirt-" + vm.name + ".log"}));
    }
  }
}

std::set<std::string> names_of(const Inventory& inventory, ObjectKind kind) {
  std::set<std::string> names;
  for (const Object& object : inventory.objects) {
    if (object.kind == kind) {
      names.insert(object.name);
    }
  }
  return names;
}

std::set<std::string> expected_names(const model::Lab& lab, ObjectKind kind) {
  std::set<std::string> names;
  if (kind == ObjectKind::pool) {
    names.insert(lab.pool);
  }
  if (kind == ObjectKind::volume) {
    names.insert({lab.base_volume, lab.base_kernel, lab.base_initrd});
  }
  for (const model::Team& team : lab.teams) {
    for (const model::Network& net : team.networks) {
      if (kind == ObjectKind::network) {
        names.insert(net.name);
      }
    }
    for (const model::Vm& vm : team.vms) {
      if (kind == ObjectKind::domain) {
        names.insert(vm.name);
      }
      if (kind == ObjectKind::volume) {
        names.insert({vm.disk_volume, vm.seed_volume});
      }
    }
  }
  return names;
}

}  // namespace

TEST_CASE("libvirt backend on test:///default: create, inventory, delete by tag", "[libvirt]") {
  auto hv = open_test_driver();
  const model::Lab lab = libvirt_lab({.classroom = "lctlvt", .teams = 2, .external = true});
  build_lab(*hv, lab);

  SECTION("inventory lists exactly the lab's objects, with their tags") {
    auto inv = hv->inventory(lab.classroom);
    REQUIRE(inv.ok());
    for (ObjectKind kind :
         {ObjectKind::network, ObjectKind::pool, ObjectKind::volume, ObjectKind::domain}) {
      INFO(to_string(kind));
      CHECK(names_of(*inv, kind) == expected_names(lab, kind));
    }
    const model::Vm& vm = lab.teams[1].vms[0];
    const Object* dom = inv->find(ObjectKind::domain, vm.name);
    REQUIRE(dom != nullptr);
    CHECK(dom->tag.classroom == lab.classroom);
    CHECK(dom->tag.team == "team2");
    CHECK(dom->tag.role == "domain");
    CHECK(dom->tag.spec_hash == vm.spec_hash);
    CHECK(dom->memory == vm.memory);
    CHECK(dom->vcpus == vm.vcpus);
    CHECK(dom->state == PowerState::off);
    const model::Network& lan = lab.teams[1].networks[0];
    const Object* net = inv->find(ObjectKind::network, lan.name);
    REQUIRE(net != nullptr);
    CHECK(net->tag.team == "team2");
    CHECK(net->tag.spec_hash == model::network_spec_hash(lan));
    CHECK(net->cidr == "10.61.2.0/24");
    CHECK(net->state == PowerState::running);
    const Object* seed = inv->find(ObjectKind::volume, vm.seed_volume);
    REQUIRE(seed != nullptr);
    CHECK(seed->tag.team == "team2");
    CHECK(seed->tag.role == "seed");
    CHECK(seed->pool == lab.pool);
    CHECK(inv->find(ObjectKind::volume, lab.base_volume)->tag.role == "base");
  }
  SECTION("another classroom sees nothing of it") {
    auto inv = hv->inventory("other");
    REQUIRE(inv.ok());
    CHECK(inv->objects.empty());
  }
  SECTION("start, state, stop") {
    const std::string name = lab.teams[0].vms[0].name;
    require_ok(hv->start_domain(lab, name));
    CHECK(hv->domain_state(name).value() == PowerState::running);
    require_ok(hv->stop_domain(name));
    CHECK(hv->domain_state(name).value() == PowerState::off);
    CHECK_FALSE(hv->domain_state("lct-libvirt-none").ok());
  }
  SECTION("overlay volumes point at the base volume") {
    auto path = hv->volume_path(lab.pool, lab.teams[0].vms[0].disk_volume);
    REQUIRE(path.ok());
    CHECK(*path == "/lct-libvirt-pools/lctlvt/" + lab.teams[0].vms[0].disk_volume);
  }
  SECTION("delete by tag removes everything, in reverse order") {
    for (const model::Team& team : lab.teams) {
      for (const model::Vm& vm : team.vms) {
        require_ok(hv->start_domain(lab, vm.name));
        require_ok(hv->delete_domain(lab.classroom, vm.name));
      }
      for (const model::Network& net : team.networks) {
        require_ok(hv->delete_network(lab.classroom, net.name));
      }
    }
    require_ok(hv->delete_volume(lab.pool, lab.base_kernel));
    require_ok(hv->delete_pool(lab.classroom, lab.pool));
    auto inv = hv->inventory(lab.classroom);
    REQUIRE(inv.ok());
    CHECK(inv->objects.empty());
  }
  SECTION("one backend serves several threads at once") {
    const std::size_t expected = hv->inventory(lab.classroom).value().objects.size();
    REQUIRE(expected == 24);  // 8 networks, 1 pool, 11 volumes, 4 domains
    std::vector<std::thread> workers;
    std::atomic<int> good{0};
    for (int t = 0; t < 4; ++t) {
      workers.emplace_back([&, t] {
        for (int i = 0; i < 20; ++i) {
          auto inv = hv->inventory(lab.classroom);
          const auto caps = hv->capabilities();
          auto state = hv->domain_state(lab.teams[t % 2].vms[0].name);
          good +=
              inv.ok() && inv->objects.size() == expected && caps.scheme == "test" && state.ok();
        }
      });
    }
    for (std::thread& worker : workers) {
      worker.join();
    }
    CHECK(good == 80);
  }
  SECTION("a tagged object of another classroom is refused too") {
    const std::string name = lab.teams[0].vms[0].name;
    CHECK_FALSE(hv->delete_domain("other", name).ok());
    CHECK_FALSE(hv->delete_network("other", lab.teams[0].networks[0].name).ok());
    CHECK_FALSE(hv->delete_pool("other", lab.pool).ok());
    CHECK(hv->domain_state(name).ok());
  }
}

TEST_CASE("libvirt backend refuses to delete what it does not own", "[libvirt]") {
  auto hv = open_test_driver();
  const model::Lab lab = libvirt_lab({.classroom = "lctlvu", .teams = 1});
  const model::Vm& vm = lab.teams[0].vms[0];
  const model::Network& net = lab.teams[0].networks[0];
  // Hand-made objects named exactly like labctl's, without the tag.
  const std::string untagged_net =
      "<network><name>" + net.name + "</name><bridge name='lctu0'/></network>";
  const std::string untagged_dom = "<domain type='test'><name>" + vm.name +
                                   "</name><memory>65536</memory><os><type>hvm</type></os>"
                                   "</domain>";
  SECTION("untagged network and domain survive delete attempts") {
    const libvirt::NetworkHandle raw_net(
        virNetworkDefineXML(hv->connection(), untagged_net.c_str()));
    const libvirt::DomainHandle raw_dom(virDomainDefineXML(hv->connection(), untagged_dom.c_str()));
    REQUIRE(raw_net);
    REQUIRE(raw_dom);
    const Status net_deleted = hv->delete_network(lab.classroom, net.name);
    REQUIRE_FALSE(net_deleted.ok());
    CHECK(net_deleted.error().message.find("refusing") != std::string::npos);
    const Status dom_deleted = hv->delete_domain(lab.classroom, vm.name);
    REQUIRE_FALSE(dom_deleted.ok());
    CHECK(dom_deleted.error().message.find("refusing") != std::string::npos);
    CHECK(hv->domain_state(vm.name).ok());
    auto inv = hv->inventory(lab.classroom);
    REQUIRE(inv.ok());
    CHECK(inv->objects.empty());
    auto nets = hv->host_networks();
    REQUIRE(nets.ok());
    CHECK(std::any_of(nets->begin(), nets->end(), [&](const HostNetwork& n) {
      return n.name == net.name && n.classroom.empty();
    }));
  }
  SECTION("the driver's own pool is not labctl's") {
    const Status deleted = hv->delete_pool(lab.classroom, "default-pool");
    REQUIRE_FALSE(deleted.ok());
    CHECK(deleted.error().message.find("refusing") != std::string::npos);
    CHECK_FALSE(hv->delete_volume("default-pool", "anything").ok());
  }
}

// Issue 13: a domain defined by hand with a VM's name, a network holding a lab network's
// bridge, and a bridge the lab joins are seen by inventory and plan, before anything is made.
TEST_CASE("libvirt inventory shows what holds the classroom's names, and the host's devices",
          "[libvirt]") {
  auto hv = open_test_driver();
  model::Lab lab = libvirt_lab({.classroom = "lctlvc", .teams = 1});
  lab.identity = "0123456789abcdef0123456789abcdef";
  const model::Vm& vm = lab.teams[0].vms[0];
  const model::Network& net = lab.teams[0].networks[0];
  const std::string hand_dom = "<domain type='test'><name>" + vm.name +
                               "</name><memory>65536</memory><os><type>hvm</type></os></domain>";
  const std::string hand_net =
      "<network><name>lctlvc-hold</name><bridge name='" + net.bridge + "'/></network>";
  const libvirt::DomainHandle raw_dom(virDomainDefineXML(hv->connection(), hand_dom.c_str()));
  const libvirt::NetworkHandle raw_net(virNetworkDefineXML(hv->connection(), hand_net.c_str()));
  REQUIRE(raw_dom);
  REQUIRE(raw_net);
  auto inv = hv->inventory(lab.classroom);
  REQUIRE(inv.ok());
  CHECK(inv->objects.empty());
  REQUIRE(inv->devices.has_value());
  CHECK(std::find(inv->devices->begin(), inv->devices->end(), "eth1") != inv->devices->end());

  const plan::Plan p = plan::plan_up(lab, *inv, {.all = true});
  CHECK(p.conflicts == std::vector<plan::Conflict>{
                           {"bridge", net.bridge, "team1", "",
                            "used by network lctlvc-hold, a network that is not labctl's", false},
                           {"vm", vm.name, "team1", "vm1", "a domain that is not labctl's", false},
                       });
  CHECK_FALSE(plan::refuse_conflicts(p.conflicts, hv->uri(), true).ok());

  SECTION("a bridge the lab joins is checked against the host's interfaces") {
    model::Lab bridged = lab;
    bridged.teams[0].networks[1].kind = model::NetworkKind::bridge;
    bridged.teams[0].networks[1].bridge = "br-hold";
    const Status missing = plan::check_bridges(bridged, *inv, {.all = true});
    REQUIRE_FALSE(missing.ok());
    CHECK_THAT(missing.error().message, Catch::Contains("joins br-hold"));
    const std::string iface =
        "<interface type='bridge' name='br-hold'><start mode='none'/>"
        "<bridge stp='off'/></interface>";
    const libvirt::InterfaceHandle raw_iface(
        virInterfaceDefineXML(hv->connection(), iface.c_str(), 0));
    REQUIRE(raw_iface);
    auto again = hv->inventory(lab.classroom);
    REQUIRE(again.ok());
    CHECK(plan::check_bridges(bridged, *again, {.all = true}).ok());
  }
}

// Objects tagged before classrooms had identities, taken over by --adopt: the tag keeps its
// classroom, team, role and spec and gains the identity; nothing else changes.
TEST_CASE("libvirt backend re-tags a classroom's domains and networks", "[libvirt]") {
  auto hv = open_test_driver();
  model::Lab lab = libvirt_lab({.classroom = "lctlva", .teams = 1});
  build_lab(*hv, lab);  // no identity yet: tags as labctl wrote them before
  const model::Network& net = lab.teams[0].networks[0];
  // The test driver shows a running network's live XML only, where a re-tag lands at restart.
  require_ok(hv->delete_network(lab.classroom, net.name));
  const libvirt::NetworkHandle stopped(
      virNetworkDefineXML(hv->connection(), libvirt::render_network(lab, net).c_str()));
  REQUIRE(stopped);

  lab.identity = "0123456789abcdef0123456789abcdef";
  auto inv = hv->inventory(lab.classroom);
  REQUIRE(inv.ok());
  const auto adoptable = plan::adoptable_objects(lab, *inv);
  CHECK(adoptable.size() == 4);  // both networks, both domains
  REQUIRE(hv->domain_state(lab.teams[0].vms[0].name).ok());
  require_ok(hv->start_domain(lab, lab.teams[0].vms[0].name));
  for (const Object* object : adoptable) {
    require_ok(hv->retag(*object, lab.identity));
  }
  auto after = hv->inventory(lab.classroom);
  REQUIRE(after.ok());
  std::vector<Object> retagged;
  for (const Object& object : after->objects) {
    if (object.kind == ObjectKind::domain || object.name == net.name) {
      CHECK(object.tag.identity == lab.identity);
      retagged.push_back(object);
    }
  }
  CHECK(retagged.size() == 3);
  const Object* dom = after->find(ObjectKind::domain, lab.teams[0].vms[0].name);
  REQUIRE(dom != nullptr);
  CHECK(dom->tag.spec_hash == lab.teams[0].vms[0].spec_hash);
  CHECK(dom->state == PowerState::running);
  CHECK_FALSE(hv->retag(*after->find(ObjectKind::pool, lab.pool), lab.identity).ok());
}

TEST_CASE("libvirt backend: what the test driver offers and lacks", "[libvirt]") {
  auto hv = open_test_driver();
  const model::Lab lab = libvirt_lab({.classroom = "lctlvw", .teams = 1});
  require_ok(hv->create_pool(lab));
  SECTION("upload is unsupported: a clean error and no half-made volume") {
    labctl::testing::ScratchDir dir("lct-libvirt-upload");
    const auto file = dir.path() / "base.raw";
    std::ofstream(file) << std::string(4096, '\0');
    const Status uploaded =
        hv->upload_volume(lab.pool, lab.base_volume, file.string(), VolumeFormat::raw);
    REQUIRE_FALSE(uploaded.ok());
    CHECK(uploaded.error().message.find(lab.base_volume) != std::string::npos);
    INFO(uploaded.error().message);
    CHECK(uploaded.error().message.find("not supported") != std::string::npos);
    CHECK_FALSE(hv->volume_path(lab.pool, lab.base_volume).ok());
  }
  SECTION("a missing local file is an error before anything is created") {
    CHECK_FALSE(hv->upload_volume(lab.pool, "x.raw", "/nonexistent/lct", VolumeFormat::raw).ok());
    CHECK_FALSE(hv->volume_path(lab.pool, "x.raw").ok());
  }
  SECTION("capabilities and host info") {
    const Capabilities caps = hv->capabilities();
    CHECK(caps.scheme == "test");
    CHECK(caps.dhcp_reservations);
    CHECK_FALSE(caps.remote);
    CHECK_FALSE(caps.kvm);
    auto info = hv->host_info();
    INFO((info ? "" : info.error().message));
    REQUIRE(info.ok());
    CHECK(info->cpus > 0);
    CHECK(info->memory_total > 0);
  }
  SECTION("an overlay on a missing base is an error naming it") {
    const Status made = hv->create_overlay(lab.pool, "o.qcow2", "lct-missing.qcow2", 0);
    REQUIRE_FALSE(made.ok());
    CHECK(made.error().message.find("lct-missing.qcow2") != std::string::npos);
  }
  SECTION("an EFI domain is deleted although the driver knows no NVRAM flag") {
    const model::Lab efi =
        libvirt_lab({.classroom = "lctlvw", .teams = 1, .boot = model::BootMode::efi});
    const model::Vm& vm = efi.teams[0].vms[0];
    require_ok(hv->create_volume(efi.pool, efi.base_volume, VolumeFormat::qcow2, model::k_gib));
    require_ok(hv->create_overlay(efi.pool, vm.disk_volume, efi.base_volume, vm.disk));
    require_ok(hv->create_volume(efi.pool, vm.seed_volume, VolumeFormat::raw, 4096));
    require_ok(hv->create_domain({&efi, &vm, "qemu", "/tmp/lct-libvirt-" + vm.name + ".log"}));
    require_ok(hv->delete_domain(efi.classroom, vm.name));
    CHECK_FALSE(hv->domain_state(vm.name).ok());
  }
}

TEST_CASE("open_hypervisor picks the backend by scheme", "[libvirt]") {
  SECTION("hyperv:// is the Hyper-V backend; without powershell.exe its calls fail clearly") {
    auto opened = open_hypervisor("hyperv://");
    REQUIRE(opened.ok());
    CHECK((*opened)->capabilities().scheme == "hyperv");
    CHECK((*opened)->capabilities().max_nat_networks == 1);
    auto inventory = (*opened)->inventory("cd26");
    REQUIRE_FALSE(inventory.ok());
    CHECK_THAT(inventory.error().message, Catch::Contains("powershell.exe: program not found"));
  }
  SECTION("a Hyper-V dry run records the PowerShell it would run") {
    auto dry = open_dry_run("hyperv://");
    REQUIRE(dry.ok());
    REQUIRE(dry->hypervisor->inventory("cd26").ok());
    REQUIRE(dry->scripts().size() == 1);
    CHECK_THAT(dry->scripts()[0], Catch::Contains("Get-VM"));
    CHECK_FALSE(open_dry_run("test:///default").ok());
  }
  SECTION("anything else is libvirt") {
    auto opened = open_hypervisor("test:///default");
    REQUIRE(opened.ok());
    CHECK((*opened)->uri() == "test:///default");
    CHECK((*opened)->capabilities().scheme == "test");
  }
  SECTION("an unknown driver is an error value") {
    auto opened = open_hypervisor("lctnosuchdriver:///x");
    REQUIRE_FALSE(opened.ok());
    CHECK(opened.error().message.find("lctnosuchdriver:///x") != std::string::npos);
  }
}

TEST_CASE("KVM counts as usable only with vmx or svm on the host CPU", "[unit][libvirt]") {
  using labctl::hv::libvirt::kvm_usable;
  const auto caps = [](const std::string& features, const std::string& domains) {
    return "<capabilities><host><cpu><arch>x86_64</arch><model>kvm64</model>" + features +
           "</cpu></host><guest><os_type>hvm</os_type><arch name='x86_64'>" + domains +
           "</arch></guest></capabilities>";
  };
  const std::string both = "<domain type='qemu'/><domain type='kvm'/>";
  // The development machines' nested paravirtual KVM (shape of its `virsh capabilities`, and
  // of its CPU expanded): kvm offered, no vmx/svm anywhere.
  const std::string pvm = caps("<feature name='hypervisor'/><feature name='avx2'/>", both);
  CHECK_FALSE(kvm_usable(pvm,
                         "<cpu><model>kvm64</model><feature policy='require' "
                         "name='avx2'/></cpu>"));
  CHECK_FALSE(kvm_usable(pvm, ""));
  CHECK(kvm_usable(caps("<feature name='svm'/><feature name='avx2'/>", both), ""));
  CHECK(kvm_usable(caps("<feature name='vmx'/>", both), ""));
  // An EPYC host: svm is part of the model, listed only once the CPU is expanded.
  CHECK(kvm_usable(caps("<feature name='x2apic'/>", both),
                   "<cpu><model>EPYC-Rome</model><feature policy='require' name='svm'/></cpu>"));
  // A flag but no kvm domain type (no /dev/kvm for libvirt): TCG.
  CHECK_FALSE(kvm_usable(caps("<feature name='vmx'/>", "<domain type='qemu'/>"), ""));
  // A guest CPU's feature outside <host> does not count.
  CHECK_FALSE(kvm_usable("<capabilities><host><cpu></cpu></host><guest><arch name='x86_64'>" +
                             both + "<feature name='vmx'/></arch></guest></capabilities>",
                         ""));
}
