// The classroom registry's settings as `labctl registry` takes them: the lab file's (or the
// defaults), then the flags, then the checks. Nothing is started. [unit] tier.

#include "provision/converge/classroom_registry.hpp"

#include <catch2/catch.hpp>

#include "tests/support/labs.hpp"

using namespace labctl;
using converge::RegistryOverrides;

namespace {

model::Lab lab_with_registry() {
  return testing::lab_from_yaml(
      testing::small_lab_text("lctrs", "[red]") +
      "registry: { address: 127.0.0.1, port: 30123, upstream: \"http://127.0.0.1:30124\" }\n");
}

// The usage error registry_settings_for gives.
std::string refusal(const model::Lab* lab, const RegistryOverrides& overrides) {
  auto settings = converge::registry_settings_for(lab, overrides);
  REQUIRE_FALSE(settings.ok());
  CHECK(settings.error().kind == ErrorKind::usage);
  return settings.error().message;
}

}  // namespace

TEST_CASE("registry settings: the lab file's or the defaults, then the flags", "[unit]") {
  const model::Lab lab = lab_with_registry();
  SECTION("no lab file: the defaults, in the registry's cache directory") {
    auto settings = converge::registry_settings_for(nullptr, {});
    REQUIRE(settings.ok());
    const registry::Settings defaults;
    CHECK(settings->address == defaults.address);
    CHECK(settings->port == defaults.port);
    CHECK(settings->upstream == defaults.upstream);
    CHECK(settings->interface == defaults.interface);
    CHECK(settings->cache_dir == converge::registry_cache_dir());
  }
  SECTION("a lab file: its registry: settings") {
    auto settings = converge::registry_settings_for(&lab, {});
    REQUIRE(settings.ok());
    CHECK(settings->address == "127.0.0.1");
    CHECK(settings->port == 30123);
    CHECK(settings->upstream == "http://127.0.0.1:30124");
    CHECK(settings->interface == "lctreg-7f000001");
    CHECK(settings->cache_dir == converge::registry_cache_dir());
  }
  SECTION("each flag given replaces the lab's value; the others stay") {
    auto settings = converge::registry_settings_for(&lab, {"127.0.0.2", 0, "", false});
    REQUIRE(settings.ok());
    CHECK(settings->address == "127.0.0.2");
    CHECK(settings->port == 30123);
    CHECK(settings->upstream == "http://127.0.0.1:30124");
    settings =
        converge::registry_settings_for(&lab, {"", 5999, "https://mirror.example.org", false});
    REQUIRE(settings.ok());
    CHECK(settings->address == "127.0.0.1");
    CHECK(settings->port == 5999);
    CHECK(settings->upstream == "https://mirror.example.org");
  }
  SECTION("--offline: no upstream, even one given") {
    auto settings =
        converge::registry_settings_for(&lab, {"", 0, "https://mirror.example.org", true});
    REQUIRE(settings.ok());
    CHECK(settings->upstream.empty());
    settings = converge::registry_settings_for(nullptr, {"", 0, "", true});
    REQUIRE(settings.ok());
    CHECK(settings->upstream.empty());
  }
  SECTION("flags the registry cannot use are refused, naming the value") {
    CHECK(refusal(&lab, {"10.255.255", 0, "", false}) ==
          "registry address '10.255.255' is not an IPv4 address");
    CHECK(refusal(nullptr, {"0.0.0.0", 0, "", false}) ==
          "registry address 0.0.0.0 would listen everywhere: give one address");
    CHECK(refusal(&lab, {"", 70000, "", false}) ==
          "registry port 70000 is not between 1 and 65535");
    CHECK(refusal(nullptr, {"", 0, "ftp://mirror.example.org", false}) ==
          "registry upstream 'ftp://mirror.example.org' is not an http(s) URL");
  }
}
