#include <catch2/catch.hpp>

#include "provision/images/cache.hpp"
#include "provision/images/checksums.hpp"

namespace labctl::images {
namespace {

model::Image docker_recipe() {
  model::Image image;
  image.name = "debian-12-docker";
  image.build = "debian-12";
  image.with = {"docker"};
  image.mirror = "http://deb.debian.org/debian";
  return image;
}

}  // namespace

TEST_CASE("build cache key", "[unit][images]") {
  const model::Image image = docker_recipe();
  const std::string key = build_key(image, "#!/bin/bash\necho v1\n");

  SECTION("is 12 hex digits and stable") {
    // Pinned: the key names cache directories on disk; changing it rebuilds every image.
    CHECK(key == build_key(image, "#!/bin/bash\necho v1\n"));
    CHECK(key.size() == 12);
    CHECK(key.find_first_not_of("0123456789abcdef") == std::string::npos);
    CHECK(key == "2cad763c5c65");
  }
  SECTION("ignores the order and repetition of extras") {
    model::Image a = image;
    model::Image b = image;
    a.with = {"docker", "extra"};
    b.with = {"extra", "docker", "docker"};
    CHECK(build_key(a, "s") == build_key(b, "s"));
  }
  SECTION("changes with the script and every recipe input") {
    model::Image other = image;
    CHECK(build_key(image, "#!/bin/bash\necho v2\n") != key);
    other.mirror = "http://mirror.example/debian";
    CHECK(build_key(other, "#!/bin/bash\necho v1\n") != key);
    other = image;
    other.with = {};
    CHECK(build_key(other, "#!/bin/bash\necho v1\n") != key);
    other = image;
    other.build = "debian-13";
    CHECK(build_key(other, "#!/bin/bash\necho v1\n") != key);
  }
  SECTION("the efi layout is cached apart; the kernel layout keeps its key") {
    model::Image efi = image;
    efi.boot = model::BootMode::efi;
    CHECK(build_key(efi, "#!/bin/bash\necho v1\n") != key);
    model::Image kernel = image;
    kernel.boot = model::BootMode::kernel;
    CHECK(build_key(kernel, "#!/bin/bash\necho v1\n") == key);
  }
  SECTION("does not depend on the name (the directory carries it)") {
    model::Image renamed = image;
    renamed.name = "other";
    CHECK(build_key(renamed, "#!/bin/bash\necho v1\n") == key);
    CHECK(image_dir("/c", image.name, key) == "/c/images/debian-12-docker-" + key);
  }
}

TEST_CASE("pull cache key and recipes", "[unit][images]") {
  model::Image image;
  image.url = "http://h/a.qcow2";
  image.sha256 = std::string(64, 'a');
  const std::string key = pull_key(image);
  image.url = "http://h/b.qcow2";
  CHECK(pull_key(image) != key);
  CHECK(release_for_recipe("debian-12") == "bookworm");
  CHECK(release_for_recipe("ubuntu-24.04").empty());
}

TEST_CASE("digests", "[unit][images]") {
  CHECK(digest_hex(DigestKind::sha256, "abc") ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(digest_hex(DigestKind::sha512, "abc").substr(0, 16) == "ddaf35a193617aba");
}

TEST_CASE("checksum lists", "[unit][images]") {
  const std::string h1(64, '1');
  const std::string h2(128, 'b');
  SECTION("GNU format, text and binary markers, directories in names") {
    const std::string sums = h1 + "  other.qcow2\n" + h1.substr(0, 63) + "2 *./debian.qcow2\n";
    auto found = find_digest(sums, "debian.qcow2");
    REQUIRE(found);
    CHECK(found->hex == h1.substr(0, 63) + "2");
    CHECK(found->kind == DigestKind::sha256);
    CHECK_FALSE(find_digest(sums, "missing.qcow2"));
  }
  SECTION("SHA512SUMS and the BSD format") {
    auto gnu = find_digest(h2 + "  debian.qcow2\n", "debian.qcow2");
    REQUIRE(gnu);
    CHECK(gnu->kind == DigestKind::sha512);
    auto bsd = find_digest("SHA256 (debian.qcow2) = " + h1 + "\n", "debian.qcow2");
    REQUIRE(bsd);
    CHECK(bsd->hex == h1);
  }
  SECTION("pinned digests and file names") {
    CHECK(parse_digest(std::string(64, 'A'))->hex == std::string(64, 'a'));
    CHECK_FALSE(parse_digest("abc"));
    CHECK_FALSE(parse_digest(std::string(64, 'g')));
    CHECK(url_file_name("http://h/x/debian-12.qcow2?sig=1#f") == "debian-12.qcow2");
  }
}

}  // namespace labctl::images
