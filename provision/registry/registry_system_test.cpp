// The client and bundles against real registries (tests/registry.hpp): [system] tier.

#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "provision/images/cache.hpp"
#include "provision/registry/bundle.hpp"
#include "provision/registry/client.hpp"
#include "provision/registry/storage.hpp"
#include "provision/registry/versions.hpp"
#include "provision/sys/process.hpp"
#include "tests/support/golden.hpp"
#include "tests/support/registry.hpp"
#include "tests/support/registry_images.hpp"

namespace labctl::registry {
namespace {

using testing::push_test_image;
using testing::sha_of_file;

namespace fs = std::filesystem;
using testing::TestRegistry;

bool start(TestRegistry& registry) {
  if (const std::string why = TestRegistry::skip_reason(); !why.empty()) {
    WARN("SKIPPED: " << why);
    return false;
  }
  const std::string why = registry.start();
  INFO(why);
  REQUIRE(why.empty());
  return true;
}

std::vector<std::string> catalog(Client& client) {
  auto all = client.catalog();
  REQUIRE(all.ok());
  return *all;
}

}  // namespace

TEST_CASE("a bundle saved from one registry loads into another, digests unchanged", "[system]") {
  testing::ScratchDir dir("lct-bundle");
  TestRegistry a;
  TestRegistry b;
  if (!start(a) || !start(b)) {
    return;
  }
  CurlTransport http;
  Client source(http, a.url());
  Client target(http, b.url());
  const Image tm = push_test_image(source, dir.path(), "squashtest/squash-tm", "6.0.0");
  const Image pg = push_test_image(source, dir.path(), "library/postgres", "15");
  const std::vector<Reference> refs{*parse_reference("squashtest/squash-tm:6.0.0"),
                                    *parse_reference("postgres:15")};
  const std::string bundle = (dir.path() / "images.tar").string();
  REQUIRE(save_bundle(source, refs, bundle));
  CHECK_FALSE(fs::exists(bundle + ".parts"));
  CHECK_FALSE(fs::exists(bundle + ".tmp"));

  SECTION("loaded whole, and pulled back by tag with the same digests") {
    LoadOptions options;
    options.required = refs;
    auto loaded = load_bundle(target, bundle, options);
    INFO((loaded ? "" : loaded.error().message));
    REQUIRE(loaded.ok());
    CHECK(catalog(target) == std::vector<std::string>{"library/postgres", "squashtest/squash-tm"});
    auto back = target.image(refs[0]);
    REQUIRE(back.ok());
    CHECK(back->manifest.digest == tm.manifest.digest);
    REQUIRE(target.blob("library/postgres", pg.layers[0], (dir.path() / "pulled").string()));
    SECTION("a second load pushes no blob again") {
      const int puts = b.count_requests("PUT", "/blobs/uploads/", false);
      REQUIRE(load_bundle(target, bundle, options).ok());
      CHECK(b.count_requests("PUT", "/blobs/uploads/", false) == puts);
    }
  }
  SECTION("a corrupted blob is refused by name, nothing loaded") {
    std::fstream file(bundle, std::ios::in | std::ios::out | std::ios::binary);
    std::string content((std::istreambuf_iterator<char>(file)), {});
    const auto at = content.find("squashtest/squash-tm:6.0.0\n");
    REQUIRE(at != std::string::npos);  // inside the layer's file
    file.seekp(static_cast<std::streamoff>(at));
    file << "X";
    file.close();
    auto loaded = load_bundle(target, bundle);
    REQUIRE_FALSE(loaded.ok());
    CHECK_THAT(loaded.error().message,
               Catch::Contains("image squashtest/squash-tm:6.0.0: its layer 1 " +
                               tm.layers[0].digest + " is corrupt"));
    CHECK(catalog(target).empty());
  }
  SECTION("a truncated bundle is refused, nothing loaded") {
    fs::resize_file(bundle, fs::file_size(bundle) / 2);  // inside an entry
    auto loaded = load_bundle(target, bundle);
    REQUIRE_FALSE(loaded.ok());
    CHECK_THAT(loaded.error().message, Catch::Contains("is damaged or incomplete"));
    CHECK(catalog(target).empty());
  }
  SECTION("a bundle lacking an image the lab needs names it, nothing loaded") {
    LoadOptions options;
    options.required = {refs[0], *parse_reference("mariadb:10.11")};
    auto loaded = load_bundle(target, bundle, options);
    REQUIRE_FALSE(loaded.ok());
    CHECK_THAT(loaded.error().message,
               Catch::Contains("lacks an image that the lab needs: library/mariadb:10.11"));
    CHECK(catalog(target).empty());
  }
}

TEST_CASE("tags of a real registry, and a missing tag with the nearest ones", "[system]") {
  testing::ScratchDir dir("lct-tags");
  TestRegistry registry;
  if (!start(registry)) {
    return;
  }
  CurlTransport http;
  Client client(http, registry.url());
  REQUIRE(client.ping());
  for (const char* tag : {"1.19.1", "1.22.2", "6.0.0"}) {
    push_test_image(client, dir.path(), "squashtest/squash-tm", tag);
  }
  auto tags = client.tags("squashtest/squash-tm");
  REQUIRE(tags.ok());
  REQUIRE(tags->has_value());
  std::vector<std::string> sorted = **tags;  // the registry lists them in storage order
  std::sort(sorted.begin(), sorted.end());
  CHECK(sorted == std::vector<std::string>{"1.19.1", "1.22.2", "6.0.0"});
  auto missing = find_missing(client, {*parse_reference("squashtest/squash-tm:6.0.0"),
                                       *parse_reference("squashtest/squash-tm:1.16")});
  REQUIRE(missing.ok());
  REQUIRE(missing->size() == 1);
  CHECK(describe(missing->front(), registry.url()) ==
        "image squashtest/squash-tm:1.16 does not exist on " + registry.url() +
            "; nearest tags: 1.19.1, 1.22.2, 6.0.0");
}

TEST_CASE("a pull-through cache fetches each blob from its upstream once", "[system]") {
  testing::ScratchDir dir("lct-proxy");
  TestRegistry upstream;
  if (!start(upstream)) {
    return;
  }
  TestRegistry cache({upstream.url(), ""});
  REQUIRE(start(cache));
  CurlTransport http;
  Client origin(http, upstream.url());
  const Image image = push_test_image(origin, dir.path(), "library/postgres", "15");
  Client client(http, cache.url());
  for (int pull = 0; pull < 3; ++pull) {
    auto got = client.image(*parse_reference("postgres:15"));
    REQUIRE(got.ok());
    CHECK(got->manifest.digest == image.manifest.digest);
    for (const Descriptor& blob : {got->config, got->layers[0]}) {
      const fs::path file = dir.path() / fmt::format("blob-{}", pull);
      REQUIRE(client.blob("library/postgres", blob, file.string()));
      REQUIRE(cache.wait_stored(blob.digest));
    }
  }
  // distribution 2.8 fetches a missed blob twice at once (one copy streams to the client,
  // one goes to storage); after that, never again, however many pulls.
  for (const Descriptor& blob : {image.config, image.layers[0]}) {
    CHECK(upstream.settled_count("GET", "/blobs/" + blob.digest, 2) == 2);
  }
  CHECK(cache.settled_count("GET", "/blobs/" + image.layers[0].digest, 3) == 3);
  auto refused =
      client.push_blob("library/postgres", image.config.digest, (dir.path() / "blob-0").string());
  REQUIRE_FALSE(refused.ok());
  CHECK_THAT(refused.error().message, Catch::Contains("HTTP 405"));
}

TEST_CASE("what a registry's storage holds, read from its directory", "[system]") {
  TestRegistry registry;
  if (!start(registry)) {
    return;
  }
  CurlTransport transport;
  Client client(transport, registry.url());
  testing::ScratchDir dir("lct-storage");
  CHECK(cached_images(registry.storage())->empty());
  const Image tm = push_test_image(client, dir.path(), "squashtest/squash-tm", "6.0.0");
  const Image pg = push_test_image(client, dir.path(), "library/postgres", "15");

  auto listed = cached_images(registry.storage());
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 2);
  CHECK((*listed)[0].ref.name() == "library/postgres:15");
  CHECK((*listed)[0].digest == pg.manifest.digest);
  CHECK((*listed)[0].bytes == pg.size());
  CHECK((*listed)[0].complete);
  CHECK((*listed)[1].ref.name() == "squashtest/squash-tm:6.0.0");
  CHECK((*listed)[1].bytes == tm.size());

  // A layer that never reached the storage (a cache that fetched only the manifest).
  const std::string hex = pg.layers[0].digest.substr(7);
  fs::remove_all(fs::path(registry.storage()) / "docker/registry/v2/blobs/sha256" /
                 hex.substr(0, 2) / hex);
  listed = cached_images(registry.storage());
  REQUIRE(listed.ok());
  CHECK_FALSE((*listed)[0].complete);
  CHECK((*listed)[1].complete);
}

}  // namespace labctl::registry
