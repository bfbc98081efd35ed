#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <vector>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "provision/model/lab.hpp"
#include "provision/sys/process.hpp"
#include "tests/support/golden.hpp"
#include "tests/support/labctl_cli.hpp"

// The built image's EFI variant, for real, through the labctl executable: labctl builds it
// (or takes it from the cache), brings up a one-VM classroom with `image.boot: efi` on
// qemu:///system (libvirt picks OVMF, Secure Boot off; TCG here), and waits for ssh,
// cloud-init and Docker. Inside, over SSH: booted by UEFI, root found by label, its
// partition and filesystem grown to the VM's disk. Then down: nothing of the classroom is
// left, NVRAM file included.

namespace {

using namespace labctl;

constexpr const char* k_uri = "qemu:///system";
constexpr const char* k_nvram_dir = "/var/lib/libvirt/qemu/nvram";
constexpr std::uint64_t k_disk_mib = 6144;

std::string efi_lab(const std::string& classroom) {
  return fmt::format(R"(classroom: {}
image: {{ build: debian-12, with: [docker], boot: efi }}
docker: {{ source: preinstalled }}
defaults: {{ memory: 2GiB, vcpus: 1, disk: {}MiB }}
teams: {{ names: [blue] }}
template:
  networks:
    lan: {{ kind: nat, bridge_name: "{{classroom}}{{team_index}}{{net}}" }}
  vms:
    vm1: {{}}
)",
                     classroom, k_disk_mib);
}

// labctl on one lab file and state directory; stderr (the stage times) is echoed.
struct Classroom {
  std::filesystem::path dir;
  std::string name;

  testing::LabctlCli cli{dir, {.global_args = {"--connect", k_uri}}};

  sys::ProcessResult labctl(const std::vector<std::string>& args) const { return cli.run(args); }
  std::string ssh(const std::string& command) const {
    const auto result = labctl({"ssh", "blue", "vm1", "--", "sh", "-c", "'" + command + "'"});
    INFO(result.out << result.err);
    REQUIRE(result.exit_code == 0);
    return result.out;
  }
  std::vector<std::filesystem::path> nvram_files() const {
    std::vector<std::filesystem::path> files;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(k_nvram_dir, ec)) {
      if (entry.path().filename().string().rfind(name + "-", 0) == 0) {
        files.push_back(entry.path());
      }
    }
    return files;
  }
};

// However the test ends: down, then whatever NVRAM file down would have left.
struct Teardown {
  const Classroom& classroom;
  bool done = false;
  ~Teardown() {
    if (!done) {
      classroom.labctl({"down", "--all", "--yes"});
      for (const auto& file : classroom.nvram_files()) {
        std::error_code ec;
        std::filesystem::remove(file, ec);
      }
    }
  }
};

// The n-th whitespace-separated number of `text`, from 0.
std::uint64_t nth_number(const std::string& text, int n) {
  std::istringstream in(text);
  std::uint64_t value = 0;
  for (int i = 0; i <= n; ++i) {
    in >> value;
  }
  return value;
}

std::string virsh_names(const std::string& what) {
  auto result = sys::SystemRunner().run({"virsh", "-q", "-c", k_uri, what, "--all", "--name"});
  REQUIRE(result.ok());
  return result->out;
}

}  // namespace

TEST_CASE("the built image's EFI variant boots under OVMF and grows its root", "[image][vm]") {
  labctl::testing::ScratchDir scratch("lct-efi-boot");
  std::random_device random;
  const Classroom classroom{scratch.path(), fmt::format("efi{:06x}", random() & 0xffffffU)};
  std::ofstream(scratch.path() / "lab.yaml") << efi_lab(classroom.name);
  Teardown teardown{classroom};

  const auto up = classroom.labctl({"up", "--all"});
  INFO(up.out);
  REQUIRE(up.exit_code == 0);
  const std::string domain = classroom.name + "-blue-vm1";
  CHECK(classroom.nvram_files() == std::vector<std::filesystem::path>{
                                       std::filesystem::path(k_nvram_dir) / (domain + "_VARS.fd")});

  CHECK(classroom.ssh("test -d /sys/firmware/efi && echo uefi") == "uefi\n");
  CHECK(classroom.ssh("cat /proc/cmdline").find("root=LABEL=root") != std::string::npos);
  CHECK(classroom.ssh("cloud-init status").find("status: done") != std::string::npos);
  // Partition and filesystem both span the disk but for the 1 MiB gap, the 128 MiB ESP and
  // the backup GPT; the filesystem's own metadata takes a few percent more.
  const std::string sizes =
      classroom.ssh("lsblk -bndo SIZE $(findmnt -no SOURCE /); findmnt -bno SIZE /");
  INFO(sizes);
  const std::uint64_t partition = nth_number(sizes, 0);
  const std::uint64_t filesystem = nth_number(sizes, 1);
  CHECK(partition >= (k_disk_mib - 131) * model::k_mib);
  CHECK(filesystem >= partition / 100 * 95);

  const auto down = classroom.labctl({"down", "--all", "--yes"});
  teardown.done = true;
  CHECK(down.exit_code == 0);
  CHECK(classroom.nvram_files().empty());
  CHECK(virsh_names("list").find(classroom.name) == std::string::npos);
  CHECK(virsh_names("net-list").find(classroom.name) == std::string::npos);
  CHECK(virsh_names("pool-list").find(classroom.name) == std::string::npos);
}
