// check_space against the real file system under the temporary directory. [unit] tier.

#include <filesystem>
#include <limits>

#include <catch2/catch.hpp>

#include "provision/registry/storage.hpp"

namespace {

namespace fs = std::filesystem;
using labctl::registry::check_space;

}  // namespace

TEST_CASE("check_space refuses what the disk cannot hold, naming the directory and sizes",
          "[unit]") {
  const fs::path absent = fs::temp_directory_path() / "lct-no-such-dir" / "registry" / "data";
  CHECK(check_space(absent, 0, "nothing"));
  CHECK(check_space(absent, 1024, "a small image"));
  const auto refused = check_space(absent, std::numeric_limits<std::uint64_t>::max() / 4,
                                   "the classroom's 2 images");
  REQUIRE_FALSE(refused);
  const std::string message = refused.error().message;
  CHECK(message.find("the classroom registry's storage " + absent.string() + " has ") == 0);
  CHECK(message.find("MiB free; the classroom's 2 images need ") != std::string::npos);
  CHECK(message.find("no layer was stored") != std::string::npos);
  CHECK_FALSE(fs::exists(absent));  // nothing made to find out
}
