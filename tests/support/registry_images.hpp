#pragma once

// Test images for real registries (tests/registry.hpp): a tiny image made here, a tar layer
// holding one file and a config naming it, pushed with labctl's own registry client.

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "provision/images/cache.hpp"
#include "provision/registry/client.hpp"
#include "provision/sys/process.hpp"

namespace labctl::testing {

namespace fs = std::filesystem;
using registry::Client;
using registry::Image;
using registry::k_oci_manifest;

inline std::string sha_of_file(const fs::path& file) {
  return "sha256:" + *images::file_digest_hex(images::DigestKind::sha256, file.string());
}

// A tiny image made here: a tar layer holding one file, a config naming it, pushed with the
// client under repository:tag. With `payload` bytes, the layer also holds a file of that many
// random bytes (an image too big for a small disk).
inline Image push_test_image(Client& client, const fs::path& dir, const std::string& repository,
                             const std::string& tag, std::size_t payload = 0) {
  const fs::path work = dir / (repository + "-" + tag);
  fs::create_directories(work / "root");
  std::ofstream(work / "root" / "hello.txt") << repository << ":" << tag << "\n";
  std::vector<std::string> files{"hello.txt"};
  if (payload > 0) {
    sys::SystemRunner run;
    auto made = run.run({"head", "-c", std::to_string(payload), "/dev/urandom"});
    REQUIRE((made && made->exit_code == 0));
    std::ofstream(work / "root" / "payload.bin", std::ios::binary) << made->out;
    files.emplace_back("payload.bin");
  }
  std::vector<std::string> argv{"tar",        "-C",  (work / "root").string(),
                                "--mtime=@0", "-cf", (work / "layer.tar").string()};
  argv.insert(argv.end(), files.begin(), files.end());
  sys::SystemRunner run;
  auto tar = run.run(argv);
  REQUIRE((tar && tar->exit_code == 0));
  const std::string layer_digest = sha_of_file(work / "layer.tar");
  std::ofstream(work / "config.json")
      << R"({"architecture":"amd64","os":"linux","config":{"Cmd":["/hello"]},"rootfs":)"
      << R"({"type":"layers","diff_ids":[")" << layer_digest << R"("]}})";
  Image image;
  image.config = {"application/vnd.oci.image.config.v1+json", sha_of_file(work / "config.json"),
                  fs::file_size(work / "config.json")};
  image.layers = {
      {"application/vnd.oci.image.layer.v1.tar", layer_digest, fs::file_size(work / "layer.tar")}};
  REQUIRE(client.push_blob(repository, image.config.digest, (work / "config.json").string()));
  REQUIRE(client.push_blob(repository, layer_digest, (work / "layer.tar").string()));
  const std::string body = fmt::format(
      R"({{"schemaVersion":2,"mediaType":"{}","config":{{"mediaType":"{}","digest":"{}","size":{}}},"layers":[{{"mediaType":"{}","digest":"{}","size":{}}}]}})",
      k_oci_manifest, image.config.media_type, image.config.digest, image.config.size,
      image.layers[0].media_type, layer_digest, image.layers[0].size);
  image.manifest = {k_oci_manifest,
                    "sha256:" + images::digest_hex(images::DigestKind::sha256, body), body};
  REQUIRE(client.push_manifest(repository, tag, image.manifest));
  return image;
}

}  // namespace labctl::testing
