#include "cloud-init/seed_iso.hpp"

#include <catch2/catch.hpp>

#include "provision/sys/process.hpp"
#include "tests/support/golden.hpp"
#include "tests/support/labs.hpp"

namespace ci = labctl::cloudinit;
namespace fs = std::filesystem;
using labctl::testing::read_file;

namespace {

// xorriso reads the ISO apart from libarchive; without it those sections are skipped.
constexpr const char* k_no_xorriso =
    "SKIPPED: xorriso is not installed (provision/bootstrap --with-test-tools installs it)";

ci::SeedContents test_seed() {
  const auto lab = labctl::testing::seed_lab(labctl::model::DockerSource::distribution);
  return ci::render_seed(lab, lab.teams[0].vms[0], labctl::testing::seed_inputs());
}

}  // namespace

TEST_CASE("the NoCloud seed ISO holds the three documents", "[unit]") {
  labctl::testing::ScratchDir scratch("lct-seeds-iso");
  const fs::path iso = scratch.path() / "cd26-team1-vm1-seed.iso";
  const auto seed = test_seed();
  REQUIRE(seed.size() == 3);
  REQUIRE(ci::write_seed_iso(iso, seed).ok());

  SECTION("the size is a multiple of 4 KiB and no temp file is left") {
    CHECK(fs::file_size(iso) % 4096 == 0);
    CHECK(std::distance(fs::directory_iterator(scratch.path()), fs::directory_iterator()) == 1);
  }
  SECTION("libarchive reads every file back unchanged") {
    auto back = ci::read_seed_iso(iso);
    REQUIRE(back.ok());
    CHECK(*back == seed);
  }
  SECTION("xorriso, an independent reader, sees the same files") {
    if (!labctl::sys::on_path("xorriso")) {
      WARN(k_no_xorriso);
      return;
    }
    labctl::sys::SystemRunner runner;
    const fs::path out = scratch.path() / "extracted";
    auto r = labctl::sys::run_checked(runner, {"xorriso", "-osirrox", "on", "-indev", iso.string(),
                                               "-extract", "/", out.string()});
    REQUIRE(r.ok());
    for (const auto& [name, content] : seed) {
      INFO(name);
      CHECK(read_file(out / name) == content);
    }
    CHECK(std::distance(fs::directory_iterator(out), fs::directory_iterator()) == 3);
  }
  SECTION("the labels: CIDATA in the primary descriptor, cidata for Joliet (what blkid shows)") {
    if (!labctl::sys::on_path("xorriso")) {
      WARN(k_no_xorriso);
      return;
    }
    labctl::sys::SystemRunner runner;
    auto pvd = labctl::sys::run_checked(runner, {"xorriso", "-indev", iso.string(), "-pvd_info"});
    REQUIRE(pvd.ok());
    CHECK(pvd->find("Volume Id    : CIDATA\n") != std::string::npos);
    auto label = labctl::sys::run_checked(
        runner, {"blkid", "-p", "-o", "value", "-s", "LABEL", iso.string()});
    REQUIRE(label.ok());
    CHECK(*label == "cidata\n");
  }
  SECTION("rewriting replaces the seed whole") {
    auto changed = seed;
    changed["meta-data"] = "instance-id: other\nlocal-hostname: team1-vm1\n";
    REQUIRE(ci::write_seed_iso(iso, changed).ok());
    CHECK(ci::read_seed_iso(iso).value() == changed);
  }
}

TEST_CASE("seed ISO failures are values", "[unit]") {
  labctl::testing::ScratchDir scratch("lct-seeds-iso-bad");
  SECTION("reading something that is not an ISO") {
    const fs::path junk = scratch.path() / "junk.iso";
    std::ofstream(junk) << "not an iso";
    CHECK_FALSE(ci::read_seed_iso(junk).ok());
    CHECK_FALSE(ci::read_seed_iso(scratch.path() / "missing.iso").ok());
  }
  SECTION("writing into a missing directory leaves nothing behind") {
    auto st = ci::write_seed_iso(scratch.path() / "no" / "seed.iso", test_seed());
    REQUIRE_FALSE(st.ok());
    CHECK_FALSE(fs::exists(scratch.path() / "no"));
  }
}
