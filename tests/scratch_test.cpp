#include <filesystem>

#include <catch2/catch.hpp>

#include "tests/support/golden.hpp"

// The promise of testing::ScratchDir: removed when the test passes, kept when it failed.

TEST_CASE("a scratch directory goes when its test passes and stays when it failed", "[unit]") {
  namespace fs = std::filesystem;
  fs::path passed;
  {
    labctl::testing::ScratchDir scratch("lct-scratch");
    passed = scratch.path();
    REQUIRE(fs::is_directory(passed));
  }
  CHECK_FALSE(fs::exists(passed));

  fs::path failed;
  {
    labctl::testing::ScratchDir scratch("lct-scratch");
    failed = scratch.path();
    labctl::testing::test_failed() = true;  // as the listener does on a failed assertion
  }
  labctl::testing::test_failed() = false;
  CHECK(fs::is_directory(failed));
  std::error_code ec;
  fs::remove_all(failed, ec);

  fs::path unwound;
  try {
    labctl::testing::ScratchDir scratch("lct-scratch");
    unwound = scratch.path();
    throw std::runtime_error("on its way out");
  } catch (const std::runtime_error&) {
  }
  CHECK(fs::is_directory(unwound));
  fs::remove_all(unwound, ec);
}
