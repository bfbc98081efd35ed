// `labctl images` in the converge layer where no registry runs: `ls` against a storage written
// here in the registry's layout, and the refusals that come before any registry is started.
// [unit] tier.

#include "provision/converge/images.hpp"

#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "provision/images/cache.hpp"
#include "tests/support/golden.hpp"
#include "tests/support/labs.hpp"

using namespace labctl;

namespace {

namespace fs = std::filesystem;

// Writes `bytes` as a blob of the storage under `v2` and returns its digest.
std::string put_blob(const fs::path& v2, const std::string& bytes) {
  const std::string hex = images::digest_hex(images::DigestKind::sha256, bytes);
  const fs::path dir = v2 / "blobs" / "sha256" / hex.substr(0, 2) / hex;
  fs::create_directories(dir);
  std::ofstream(dir / "data", std::ios::binary) << bytes;
  return "sha256:" + hex;
}

// One image tagged `repository:tag` as the registry stores it; without `layer_stored`, its
// layer never reached the storage (a cache that fetched the manifest only). Its size.
std::uint64_t store_image(const fs::path& storage, const std::string& repository,
                          const std::string& tag, bool layer_stored = true) {
  const fs::path v2 = storage / "docker" / "registry" / "v2";
  const std::string config = R"({"architecture":"amd64","os":"linux"})";
  const std::string layer = repository + ":" + tag + " layer";
  const std::string layer_digest =
      layer_stored ? put_blob(v2, layer)
                   : "sha256:" + images::digest_hex(images::DigestKind::sha256, layer);
  const std::string manifest = fmt::format(
      R"({{"schemaVersion":2,"mediaType":"{}","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{}","size":{}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{}","size":{}}}]}})",
      registry::k_oci_manifest, put_blob(v2, config), config.size(), layer_digest, layer.size());
  const fs::path link = v2 / "repositories" / repository / "_manifests" / "tags" / tag / "current";
  fs::create_directories(link);
  std::ofstream(link / "link") << put_blob(v2, manifest);
  return manifest.size() + config.size() + layer.size();
}

// small_lab_text's classroom without a classroom registry.
std::string no_registry_text() {
  return testing::small_lab_text("lctin", "[red]") + "registry: { enabled: false }\n";
}

}  // namespace

TEST_CASE("images ls: what the storage holds, who uses it, and what is missing", "[unit]") {
  testing::ScratchDir scratch("lct-images-ls");
  const model::Lab lab = testing::lab_from_yaml(testing::small_lab_text("lctil", "[red, blue]"));
  auto images = converge::classroom_images(lab, {});
  REQUIRE(images.ok());
  images->settings.cache_dir = scratch.path().string();
  const fs::path storage = scratch.path() / "registry" / "data";

  SECTION("an empty storage: every image the teams need is missing") {
    auto listing = converge::list_images(*images);
    REQUIRE(listing.ok());
    CHECK(listing->storage == storage.string());
    CHECK(listing->cached.empty());
    REQUIRE(listing->missing.size() == 2);
    CHECK(listing->missing[0].name == "library/postgres:15");
    CHECK(listing->missing[0].users == std::vector<std::string>{"red/vm1/main", "blue/vm1/main"});
    CHECK(listing->missing[1].name == "squashtest/squash-tm:6.0.0");
  }
  SECTION("cached images with their users, by name; one no team uses; one partial") {
    const std::uint64_t tm = store_image(storage, "squashtest/squash-tm", "6.0.0");
    store_image(storage, "library/alpine", "3", false);
    auto listing = converge::list_images(*images);
    REQUIRE(listing.ok());
    REQUIRE(listing->cached.size() == 2);
    const converge::ListedImage& alpine = listing->cached[0];
    CHECK(alpine.name == "library/alpine:3");
    CHECK_FALSE(alpine.complete);
    CHECK(alpine.users.empty());
    const converge::ListedImage& squash = listing->cached[1];
    CHECK(squash.name == "squashtest/squash-tm:6.0.0");
    CHECK(squash.complete);
    CHECK(squash.bytes == tm);
    CHECK(squash.digest.starts_with("sha256:"));
    CHECK(squash.users == std::vector<std::string>{"red/vm1/main", "blue/vm1/main"});
    REQUIRE(listing->missing.size() == 1);
    CHECK(listing->missing[0].name == "library/postgres:15");
  }
  SECTION("one team's users only") {
    auto red = converge::classroom_images(lab, {"red"});
    REQUIRE(red.ok());
    red->settings.cache_dir = scratch.path().string();
    auto listing = converge::list_images(*red);
    REQUIRE(listing.ok());
    REQUIRE(listing->missing.size() == 2);
    CHECK(listing->missing[1].users == std::vector<std::string>{"red/vm1/main"});
  }
}

TEST_CASE("images: refusals before any registry is touched", "[unit]") {
  SECTION("an unknown team, naming the lab file") {
    const model::Lab lab = testing::lab_from_yaml(testing::small_lab_text("lctil", "[red]"));
    auto images = converge::classroom_images(lab, {"green"});
    REQUIRE_FALSE(images.ok());
    CHECK(images.error().kind == ErrorKind::usage);
    CHECK(images.error().message == "lab.yaml: no team 'green'");
  }
  SECTION("a lab without a classroom registry: pull, save and load are usage errors") {
    const model::Lab lab = testing::lab_from_yaml(no_registry_text());
    std::vector<std::string> notes;
    const converge::Notify notify = [&notes](const std::string& level, const std::string& text) {
      notes.push_back(level + ": " + text);
    };
    const converge::ImagesOptions options{{}, "/nonexistent/bundle.tar", {}};
    const auto pulled = converge::pull_images(notify, lab, options);
    const auto saved = converge::save_images(notify, lab, options);
    const auto loaded = converge::load_images(notify, lab, options);
    REQUIRE_FALSE(pulled.ok());
    REQUIRE_FALSE(saved.ok());
    REQUIRE_FALSE(loaded.ok());
    for (const Error& error : {pulled.error(), saved.error(), loaded.error()}) {
      CHECK(error.kind == ErrorKind::usage);
      CHECK(error.message.starts_with("lab.yaml: the lab uses no classroom registry"));
    }
    CHECK(notes.empty());
  }
}

TEST_CASE("a free loopback port", "[unit]") {
  auto port = converge::free_loopback_port();
  REQUIRE(port.ok());
  CHECK(*port > 0);
  CHECK(*port < 65536);
}
