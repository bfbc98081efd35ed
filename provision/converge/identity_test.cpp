#include "provision/converge/identity.hpp"

#include <cstdlib>
#include <fstream>
#include <optional>

#include <catch2/catch.hpp>

#include "tests/support/env.hpp"
#include "tests/support/golden.hpp"
#include "tests/support/labs.hpp"

namespace {

using namespace labctl;

model::Lab lab_at(const std::filesystem::path& file) {
  model::Lab lab = testing::small_lab("lct", 1, 1);
  lab.file = file.string();
  std::ofstream(file) << "classroom: lct\n";
  return lab;
}

}  // namespace

TEST_CASE("a classroom's identity is made once, and a second lab file of its name is refused",
          "[unit]") {
  testing::ScratchDir dir("lct-identity");
  const testing::ScopedEnv root("LABCTL_STATE_DIR", (dir.path() / "state").string());
  std::filesystem::create_directories(dir.path() / "a");
  std::filesystem::create_directories(dir.path() / "b");
  const model::Lab first = lab_at(dir.path() / "a" / "lab.yaml");
  const model::Lab second = lab_at(dir.path() / "b" / "lab.yaml");

  SECTION("nothing is recorded, or created, by reading") {
    auto none = converge::read_identity(first, false);
    REQUIRE(none.ok());
    CHECK(none->empty());
    CHECK_FALSE(std::filesystem::exists(dir.path() / "state"));
  }
  auto state = sys::StateDir::open(first.classroom);
  REQUIRE(state.ok());
  auto made = converge::claim_identity(first, *state, false);
  REQUIRE(made.ok());
  CHECK(made->size() == 32);
  CHECK(made->find_first_not_of("0123456789abcdef") == std::string::npos);

  SECTION("the same lab file gets the same identity back") {
    CHECK(converge::claim_identity(first, *state, false).value() == *made);
    CHECK(converge::read_identity(first, false).value() == *made);
  }
  SECTION("another lab file with the same classroom name is refused, naming both files") {
    auto refused = converge::claim_identity(second, *state, false);
    REQUIRE_FALSE(refused.ok());
    CHECK_THAT(refused.error().message,
               Catch::Contains("classroom lct on this machine belongs to another lab file, " +
                               (dir.path() / "a" / "lab.yaml").string()) &&
                   Catch::Contains((dir.path() / "b" / "lab.yaml").string()) &&
                   Catch::Contains("--adopt"));
    CHECK_FALSE(converge::read_identity(second, false).ok());
  }
  SECTION("--adopt: the other lab file takes the classroom over, identity and all") {
    CHECK(converge::read_identity(second, true).value() == *made);
    CHECK(converge::claim_identity(second, *state, true).value() == *made);
    CHECK(converge::claim_identity(second, *state, false).value() == *made);
    CHECK_FALSE(converge::claim_identity(first, *state, false).ok());
  }
}

TEST_CASE("new identities are 128 random bits", "[unit]") {
  CHECK(converge::new_identity() != converge::new_identity());
  CHECK(converge::new_identity().size() == 32);
}
