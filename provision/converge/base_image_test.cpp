// `labctl image build|pull` refuses an image the other way made, naming the lab file, before
// anything runs. [unit] tier.

#include "provision/converge/base_image.hpp"

#include <catch2/catch.hpp>

#include "tests/support/labs.hpp"

using namespace labctl;

namespace {

model::Lab lab_with(model::BootMode boot) {
  return testing::libvirt_lab({.boot = boot});
}

}  // namespace

TEST_CASE("image build and pull refuse the other kind of image, naming the lab file", "[unit]") {
  std::vector<std::string> logged;
  const images::LogFn log = [&logged](const std::string& line) { logged.push_back(line); };
  SECTION("build: an image pulled from a URL") {
    auto built = converge::build_base_image(lab_with(model::BootMode::disk),
                                            std::vector<std::string>{"docker"}, false, log);
    REQUIRE_FALSE(built.ok());
    CHECK(built.error().kind == ErrorKind::usage);
    CHECK(built.error().message ==
          "test-lab.yaml: image has no build recipe (it is pulled from a URL)");
  }
  SECTION("pull: an image built from a recipe") {
    bool progressed = false;
    auto pulled = converge::pull_base_image(
        lab_with(model::BootMode::efi),
        [&progressed](std::uint64_t, std::uint64_t) { progressed = true; }, log);
    REQUIRE_FALSE(pulled.ok());
    CHECK(pulled.error().kind == ErrorKind::usage);
    CHECK(pulled.error().message ==
          "test-lab.yaml: image has no url (it is built: `labctl image build`)");
    CHECK_FALSE(progressed);
  }
  CHECK(logged.empty());
}
