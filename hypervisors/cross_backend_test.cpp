// The same lab file planned on both backends asks both hypervisors for the same classroom:
// per team the same networks, VMs, memory caps, vCPUs, NIC MACs on the same networks, and
// seeds that give the same static addresses. `up`'s own path runs on each side (planner,
// apply engine, the guest materializer's real seeds): libvirt on test:///default
// in-process, Hyper-V through the dry run that `plan` and `up --dry-run` use. Each side is
// then read back from what its backend really produced (tests/support/seen.hpp), never from the
// model, so a renderer that drifts fails here.

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <catch2/catch.hpp>

#include "hypervisors/hypervisor.hpp"
#include "hypervisors/libvirt/backend.hpp"
#include "provision/apply/guest_materializer.hpp"
#include "provision/model/loader.hpp"
#include "provision/plan/plan.hpp"
#include "provision/sys/reporter.hpp"
#include "tests/support/golden.hpp"
#include "tests/support/libvirt_test_driver.hpp"
#include "tests/support/seen.hpp"

namespace {

using namespace labctl;
using namespace labctl::testing;
namespace lv = labctl::hv::libvirt;

// ---- Running `up` ----

// The guest materializer `up` uses, so the seeds are the real ones (keys, stack files,
// network-config); only the base image is a small local file instead of a built one. It
// starts with VHDX's signature, so that Hyper-V's upload takes it as it is.
class ScratchImage : public apply::GuestMaterializer {
 public:
  ScratchImage(const model::Lab& lab, sys::StateDir state, std::string base)
      : GuestMaterializer(lab, std::move(state), {}), m_base(std::move(base)) {}
  Result<std::string> base_file(plan::Role) override { return m_base; }

 private:
  std::string m_base;
};

std::unique_ptr<ScratchImage> materializer(const model::Lab& lab,
                                           const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  const std::filesystem::path base = dir / "base.vhdx";
  std::ofstream(base, std::ios::binary) << "vhdxfile" << std::string(4088, '\0');
  auto state = sys::StateDir::open_at(dir / "state", lab.classroom);
  REQUIRE(state.ok());
  return std::make_unique<ScratchImage>(lab, std::move(*state), base.string());
}

void run_up(const model::Lab& lab, hv::Hypervisor& hypervisor, apply::Materializer& files,
            const plan::Scope& scope) {
  auto inventory = hypervisor.inventory(lab.classroom);
  INFO((inventory ? "" : inventory.error().message));
  REQUIRE(inventory.ok());
  const plan::Plan plan = plan::plan_up(lab, *inventory, scope);
  REQUIRE_FALSE(plan.empty());
  sys::RecordingReporter quiet;
  const apply::Outcome outcome = apply::apply(lab, plan, hypervisor, files, quiet, {});
  std::string errors;
  for (const std::string& error : outcome.errors) {
    errors += error + "\n";
  }
  INFO(errors);
  REQUIRE(outcome.ok());
}

model::Lab parse(const std::string& text) {
  auto lab = model::parse_lab(text, "classroom.yaml");
  INFO((lab ? "" : lab.error().message));
  REQUIRE(lab.ok());
  return std::move(*lab);
}

// Hyper-V refuses direct kernel boot: when the file says `boot: kernel`, its side gets the
// same file with only that line changed, to the first boot mode the loader accepts there
// (`efi` for a built image where the model has it, else `disk`). classroom.yaml now says
// `efi`, which both backends take, so it needs no variant.
model::Lab hyperv_variant(const std::string& text, const model::Lab& lab) {
  if (lab.image.boot != model::BootMode::kernel) {
    return lab;
  }
  const std::string from = "boot: kernel";
  const std::size_t at = text.find(from);
  REQUIRE(at != std::string::npos);
  REQUIRE(text.find(from, at + 1) == std::string::npos);
  std::string refusals;
  for (const std::string to : {"boot: efi", "boot: disk"}) {
    std::string variant = text;
    variant.replace(at, from.size(), to);
    auto parsed = model::parse_lab(variant, "classroom.yaml");
    if (parsed) {
      return std::move(*parsed);
    }
    refusals += "\n" + to + ": " + parsed.error().message;
  }
  FAIL("no variant of classroom.yaml that Hyper-V can boot:" << refusals);
  return lab;
}

// The real backend, recording the local file each upload was given: the test driver stores
// no content, so a domain's seed is found through the volume its cdrom names.
class UploadRecorder : public labctl::testing::TestDriverHypervisor {
 public:
  using TestDriverHypervisor::TestDriverHypervisor;
  Status upload_volume(const std::string& pool, const std::string& name,
                       const std::string& local_file, hv::VolumeFormat format) override {
    {
      std::lock_guard lock(m_mutex);
      m_uploads[name] = local_file;
    }
    return TestDriverHypervisor::upload_volume(pool, name, local_file, format);
  }
  std::string uploaded(const std::string& volume) const {
    std::lock_guard lock(m_mutex);
    auto it = m_uploads.find(volume);
    return it == m_uploads.end() ? "" : it->second;
  }

 private:
  mutable std::mutex m_mutex;
  std::map<std::string, std::string> m_uploads;
};

// The "<element ...>...</element>" blocks of libvirt's XML, in order (never nested there).
Seen seen_by_libvirt(const model::Lab& lab, apply::Materializer& files) {
  Seen seen;
  for (const model::Team& team : lab.teams) {
    auto opened = lv::LibvirtHypervisor::open("test:///default", {.pool_root = "/lct-cross"});
    INFO((opened ? "" : opened.error().message));
    REQUIRE(opened.ok());
    UploadRecorder hypervisor(**opened);
    plan::Scope scope;
    scope.teams = {team.name};
    run_up(lab, hypervisor, files, scope);
    read_libvirt((*opened)->connection(), lab.classroom,
                 [&](const std::string& volume) { return hypervisor.uploaded(volume); }, seen);
  }
  sort_by_name(seen);
  return seen;
}

Seen seen_by_hyperv(const model::Lab& lab, apply::Materializer& files) {
  auto dry = hv::open_dry_run("hyperv://");
  REQUIRE(dry.ok());
  plan::Scope scope;
  scope.all = true;
  run_up(lab, *dry->hypervisor, files, scope);
  return read_scripts(dry->scripts());
}

// ---- The comparison ----

// Enough was seen for equality to mean something: every team and VM of the lab, started,
// capped, with NICs, and a seed that addresses exactly those NICs.
void check_complete(const Seen& seen, const model::Lab& lab) {
  REQUIRE(seen.size() == lab.teams.size());
  for (const model::Team& team : lab.teams) {
    INFO("team " << team.name);
    REQUIRE(seen.count(team.name) == 1);
    const SeenTeam& got = seen.at(team.name);
    CHECK_FALSE(got.networks.empty());
    REQUIRE(got.vms.size() == team.vms.size());
    for (const SeenVm& vm : got.vms) {
      INFO(vm);
      CHECK(vm.memory_cap > 0);
      CHECK(vm.vcpus > 0);
      CHECK(vm.started);
      REQUIRE_FALSE(vm.nics.empty());
      REQUIRE(vm.seed.size() == vm.nics.size());
      for (std::size_t i = 0; i < vm.nics.size(); ++i) {
        CHECK(vm.seed[i].mac == vm.nics[i].mac);
      }
      CHECK_FALSE(vm.seed[0].address.empty());
    }
  }
}

}  // namespace

TEST_CASE("the same lab file on libvirt and Hyper-V asks for the same classroom", "[libvirt]") {
  labctl::testing::ScratchDir scratch("lct-cross");
  const std::string text =
      labctl::testing::read_file(labctl::testing::source_dir() / "labs" / "classroom.yaml");
  const model::Lab lab = parse(text);
  const model::Lab hyperv_lab = hyperv_variant(text, lab);
  REQUIRE_FALSE(lab.teams.empty());

  auto libvirt_files = materializer(lab, scratch.path() / "libvirt");
  auto hyperv_files = materializer(hyperv_lab, scratch.path() / "hyperv");
  const Seen libvirt = seen_by_libvirt(lab, *libvirt_files);
  const Seen hyperv = seen_by_hyperv(hyperv_lab, *hyperv_files);
  {
    INFO("libvirt");
    check_complete(libvirt, lab);
  }
  {
    INFO("Hyper-V");
    check_complete(hyperv, hyperv_lab);
  }
  for (const auto& [team, seen] : libvirt) {
    INFO("team " << team);
    REQUIRE(hyperv.count(team) == 1);
    CHECK(seen.networks == hyperv.at(team).networks);
    CHECK(seen.vms == hyperv.at(team).vms);
  }
}
