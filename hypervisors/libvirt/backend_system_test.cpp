#include <unistd.h>

#include <filesystem>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "hypervisors/libvirt/backend.hpp"
#include "provision/sys/process.hpp"
#include "tests/support/golden.hpp"
#include "tests/support/labs.hpp"

// Against the real daemon (qemu:///system): pool, upload, overlay, NAT network with DHCP host
// entries, a TCG domain started (no OS needed), checked with virsh, then deleted by tag.

namespace {

using namespace labctl;
using namespace labctl::hv;
using labctl::hv::libvirt::LibvirtHypervisor;

constexpr const char* k_uri = "qemu:///system";

// Classroom "lctlv" + three letters from the pid: unique per run, at most 8 characters so
// that bridge names stay within 15.
std::string unique_classroom() {
  std::string name = "lctlv";
  for (unsigned n = unsigned(::getpid()), i = 0; i < 3; ++i, n /= 26) {
    name += char('a' + n % 26);
  }
  return name;
}

// One team, vm1 on a NAT network only, on a subnet no host network uses.
model::Lab system_lab(LibvirtHypervisor& hv) {
  const auto used = hv.host_networks();
  REQUIRE(used.ok());
  for (std::uint32_t third = std::uint32_t(::getpid()) % 200;; ++third) {
    const model::Subnet candidate{(10U << 24) | (213U << 16) | ((third % 256) << 8), 24};
    const bool taken = std::any_of(used->begin(), used->end(), [&](const HostNetwork& n) {
      return n.cidr == candidate.cidr();
    });
    if (!taken) {
      model::Lab lab = testing::lab_from_yaml(fmt::format(
          R"(classroom: {}
{}
teams: {{ count: 1 }}
template:
  networks:
    lan: {{ kind: nat, subnet: {}, bridge_name: "lc{{classroom}}t{{team_index}}{{net}}" }}
  vms:
    vm1: {{ vcpus: 2, disk: 64MiB }}
)",
          unique_classroom(), testing::image_yaml(model::BootMode::disk), candidate.cidr()));
      lab.base_volume = lab.classroom + "-base.raw";
      return lab;
    }
  }
}

// Removes whatever the test made, also when it fails half-way; each step may find nothing.
class LabGuard {
 public:
  LabGuard(LibvirtHypervisor& hv, const model::Lab& lab) : m_hv(hv), m_lab(lab) {}
  ~LabGuard() {
    for (const model::Vm& vm : m_lab.teams[0].vms) {
      (void)m_hv.delete_domain(m_lab.classroom, vm.name);
    }
    (void)m_hv.delete_pool(m_lab.classroom, m_lab.pool);
    for (const model::Network& net : m_lab.teams[0].networks) {
      (void)m_hv.delete_network(m_lab.classroom, net.name);
    }
  }
  LabGuard(const LabGuard&) = delete;
  LabGuard& operator=(const LabGuard&) = delete;

 private:
  LibvirtHypervisor& m_hv;
  const model::Lab& m_lab;
};

void require_ok(const Status& status) {
  INFO((status ? "" : status.error().message));
  REQUIRE(status.ok());
}

std::string virsh(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"virsh", "-c", k_uri};
  argv.insert(argv.end(), args.begin(), args.end());
  sys::SystemRunner runner;
  auto result = sys::run_checked(runner, argv);
  INFO((result ? "" : result.error().message));
  REQUIRE(result.ok());
  return *result;
}

std::filesystem::path write_zeros(const std::filesystem::path& file, std::size_t size) {
  std::ofstream(file, std::ios::binary) << std::string(size, '\0');
  return file;
}

}  // namespace

TEST_CASE("libvirt backend against qemu:///system", "[system]") {
  labctl::testing::ScratchDir scratch("lct-libvirt-system");
  // qemu runs as another user on Debian: it must traverse to the pool's files.
  std::filesystem::permissions(scratch.path(), std::filesystem::perms(0755));
  auto opened = LibvirtHypervisor::open(k_uri, {.pool_root = (scratch.path() / "pools").string()});
  INFO((opened ? "" : opened.error().message));
  REQUIRE(opened.ok());
  LibvirtHypervisor& hv = **opened;
  const model::Lab lab = system_lab(hv);
  const model::Vm& vm = lab.teams[0].vms[0];
  const model::Network& lan = lab.teams[0].networks[0];
  LabGuard guard(hv, lab);

  require_ok(hv.create_network(lab, lan));
  require_ok(hv.create_pool(lab));
  const auto base = write_zeros(scratch.path() / "base.raw", model::k_mib);
  require_ok(hv.upload_volume(lab.pool, lab.base_volume, base.string(), VolumeFormat::raw));
  const auto seed = write_zeros(scratch.path() / "seed.iso", 4096);
  require_ok(hv.upload_volume(lab.pool, vm.seed_volume, seed.string(), VolumeFormat::raw));
  require_ok(hv.create_overlay(lab.pool, vm.disk_volume, lab.base_volume, vm.disk));
  const std::string log = (scratch.path() / (vm.name + ".log")).string();
  require_ok(hv.create_domain({&lab, &vm, "qemu", log}));
  require_ok(hv.start_domain(lab, vm.name));
  CHECK(hv.domain_state(vm.name).value() == PowerState::running);

  SECTION("virsh sees the cap, the DHCP host entry and the backing store") {
    CHECK_THAT(virsh({"dominfo", vm.name}),
               Catch::Matches("[\\s\\S]*Max memory:\\s+2097152 KiB[\\s\\S]*"));
    const std::string host = "<host mac='" + vm.nics[0].mac + "' name='" + vm.hostname + "' ip='" +
                             vm.nics[0].ip + "'/>";
    CHECK_THAT(virsh({"net-dumpxml", lan.name}), Catch::Contains(host));
    const std::string base_path = hv.volume_path(lab.pool, lab.base_volume).value();
    CHECK(base_path == (scratch.path() / "pools" / lab.classroom / lab.base_volume).string());
    const std::string vol = virsh({"vol-dumpxml", "--pool", lab.pool, vm.disk_volume});
    CHECK_THAT(vol, Catch::Contains("<backingStore>") && Catch::Contains("<path>" + base_path));
    auto inv = hv.inventory(lab.classroom);
    REQUIRE(inv.ok());
    CHECK(inv->objects.size() == 1 + 1 + 3 + 1);  // network, pool, 3 volumes, domain
    CHECK(inv->find(ObjectKind::domain, vm.name)->memory == lab.memory_cap);
    CHECK(inv->find(ObjectKind::network, lan.name)->cidr == lan.subnet->cidr());
  }
  SECTION("capabilities and host info of the real host") {
    const Capabilities caps = hv.capabilities();
    CHECK(caps.scheme == "qemu");
    CHECK_FALSE(caps.remote);
    WARN("kvm usable: " << caps.kvm);
    auto info = hv.host_info();
    REQUIRE(info.ok());
    CHECK(info->memory_total >= info->memory_free);
    CHECK(info->memory_free > 0);
  }
  SECTION("delete by tag leaves nothing tagged") {
    require_ok(hv.delete_domain(lab.classroom, vm.name));
    require_ok(hv.delete_pool(lab.classroom, lab.pool));
    require_ok(hv.delete_network(lab.classroom, lan.name));
    auto inv = hv.inventory(lab.classroom);
    REQUIRE(inv.ok());
    CHECK(inv->objects.empty());
    CHECK_FALSE(std::filesystem::exists(scratch.path() / "pools" / lab.classroom));
  }
}
