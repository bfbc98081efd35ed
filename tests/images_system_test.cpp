// `labctl images` and the version checks through the labctl executable, against real
// docker-registry processes: an upstream standing in for Docker Hub (tests/registry.hpp) and
// the classroom registry that labctl starts and supervises as a pull-through cache of it, on
// loopback. No VM: the lab's host is test:///default. [system] tier.

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>

#include <fmt/format.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "provision/registry/storage.hpp"
#include "provision/sys/process.hpp"
#include "tests/support/golden.hpp"
#include "tests/support/labctl_cli.hpp"
#include "tests/support/registry.hpp"
#include "tests/support/registry_images.hpp"

namespace {

namespace fs = std::filesystem;
using labctl::testing::LabctlCli;
using labctl::testing::ScratchDir;
using labctl::testing::TestRegistry;

std::string lab_text(const std::string& classroom, int port, const std::string& upstream) {
  return fmt::format(R"(classroom: {}
image: {{ build: debian-12, with: [docker] }}
registry: {{ address: 127.0.0.1, port: {}, upstream: "{}" }}
squashtm: {{ memory: 512MiB }}
defaults: {{ memory: 2GiB, disk: 2GiB }}
teams: {{ names: [red] }}
template:
  networks:
    lan: {{ kind: nat }}
  vms:
    vm1:
      instances:
        - {{ name: main, version: 6.0.0 }}
        - {{ name: old, version: 5.1.0, db: h2 }}
)",
                     classroom, port, upstream);
}

struct Fixture {
  ScratchDir scratch{"lct-images"};
  TestRegistry upstream;
  labctl::registry::CurlTransport transport;
  std::unique_ptr<LabctlCli> labctl;
  std::map<std::string, labctl::registry::Image> pushed;  // "repository:tag" -> image

  // `payload`: extra random bytes in squash-tm 6.0.0's layer.
  bool start(std::size_t payload = 0) {
    if (const std::string why = TestRegistry::skip_reason(); !why.empty()) {
      WARN("SKIPPED: " << why);
      return false;
    }
    const std::string why = upstream.start();
    INFO(why);
    REQUIRE(why.empty());
    labctl::registry::Client client(transport, upstream.url());
    for (const auto& [repository, tag] :
         std::vector<std::pair<std::string, std::string>>{{"squashtest/squash-tm", "5.1.0"},
                                                          {"squashtest/squash-tm", "6.0.0"},
                                                          {"squashtest/squash-tm", "6.1.0"},
                                                          {"library/postgres", "15"}}) {
      pushed[repository + ":" + tag] = labctl::testing::push_test_image(
          client, scratch.path(), repository, tag, tag == "6.0.0" ? payload : 0);
    }
    std::random_device random;
    const int port = 30000 + static_cast<int>(random() % 9000);
    std::ofstream(scratch.path() / "lab.yaml")
        << lab_text("im" + std::to_string(port), port, upstream.url());
    // Versions are resolved on the lab's registries, not on the closed port tests default to.
    labctl = std::make_unique<LabctlCli>(
        scratch.path(), labctl::testing::LabctlCliOptions{
                            .global_args = {"--connect", "test:///default"},
                            .env = {{"LABCTL_REGISTRY", ""}, {"LABCTL_UPSTREAM", ""}}});
    return true;
  }
  ~Fixture() {
    if (labctl) {
      labctl->run({"registry", "stop"});
    }
  }
  nlohmann::json json(const std::vector<std::string>& args) const {
    std::vector<std::string> with = {"--json"};
    with.insert(with.end(), args.begin(), args.end());
    const auto result = labctl->run(with);
    INFO(result.out << result.err);
    REQUIRE(result.exit_code == 0);
    return nlohmann::json::parse(result.out);
  }
  // Successful GETs of each blob of the image that reached the upstream.
  std::vector<int> upstream_gets(const std::string& repository, const std::string& tag,
                                 int expected = 2) const {
    const labctl::registry::Image& image = pushed.at(repository + ":" + tag);
    std::vector<int> counts;
    for (const auto& blob : {image.config, image.layers.front()}) {
      counts.push_back(
          upstream.settled_count("GET", "/v2/" + repository + "/blobs/" + blob.digest, expected));
    }
    return counts;
  }
};

bool all_complete(const nlohmann::json& listed) {
  const auto& cached = listed["cached"];
  return std::all_of(cached.begin(), cached.end(),
                     [](const nlohmann::json& image) { return image["complete"] == true; });
}

}  // namespace

TEST_CASE("images pull fills the classroom registry once; ls lists it with its users", "[system]") {
  Fixture f;
  if (!f.start()) {
    return;
  }
  const auto pulled = f.json({"images", "pull"});
  REQUIRE(pulled["images"].size() == 3);
  CHECK(pulled["images"][0]["image"] == "squashtest/squash-tm:6.0.0");
  CHECK(pulled["images"][0]["digest"] == f.pushed["squashtest/squash-tm:6.0.0"].manifest.digest);
  // One cache miss per blob (docker-registry serves it with two GETs); a second pull is
  // served from the cache alone.
  CHECK(f.upstream_gets("squashtest/squash-tm", "6.0.0") == std::vector<int>{2, 2});
  CHECK(f.upstream_gets("library/postgres", "15") == std::vector<int>{2, 2});
  f.json({"images", "pull"});
  CHECK(f.upstream_gets("squashtest/squash-tm", "6.0.0") == std::vector<int>{2, 2});
  CHECK(f.upstream_gets("squashtest/squash-tm", "6.1.0", 0) == std::vector<int>{0, 0});

  const auto listed = f.json({"images", "ls"});
  REQUIRE(listed["cached"].size() == 3);
  CHECK(listed["cached"][0]["image"] == "library/postgres:15");
  CHECK(listed["cached"][0]["users"] == nlohmann::json::array({"red/vm1/main"}));
  CHECK(listed["cached"][1]["image"] == "squashtest/squash-tm:5.1.0");
  CHECK(listed["cached"][1]["users"] == nlohmann::json::array({"red/vm1/old"}));
  CHECK(listed["cached"][2]["complete"] == true);
  CHECK(listed["missing"].empty());
  const auto status = f.json({"registry", "status"});
  CHECK(status["health"] == "healthy");
  CHECK(status["upstream"] == f.upstream.url());
}

TEST_CASE("a bundle saved from the cache loads into a fresh cache; a corrupt one changes nothing",
          "[system]") {
  Fixture f;
  if (!f.start()) {
    return;
  }
  const fs::path bundle = f.scratch.path() / "images.tar";
  const auto saved = f.json({"images", "save", bundle.string()});
  CHECK(saved["images"] == 3);

  // A corrupt copy: one byte of the 6.0.0 layer changed inside the tar (its content is the
  // text "squashtest/squash-tm:6.0.0", unique in the bundle).
  std::string bytes;
  {
    std::ifstream in(bundle, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  const auto at = bytes.find("squashtest/squash-tm:6.0.0\n");
  REQUIRE(at != std::string::npos);
  bytes[at] = 'S';
  const fs::path corrupt = f.scratch.path() / "corrupt.tar";
  std::ofstream(corrupt, std::ios::binary) << bytes;
  // `images save` read the images through the cache, which stores what it fetched in the
  // background: the state the load must not change is the settled one.
  auto before = f.json({"images", "ls"});
  for (int i = 0; i < 100 && !all_complete(before); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    before = f.json({"images", "ls"});
  }
  REQUIRE(all_complete(before));
  const auto refused = f.labctl->run({"images", "load", corrupt.string()});
  CHECK(refused.exit_code == 1);
  CHECK(refused.err.find(f.pushed["squashtest/squash-tm:6.0.0"].layers.front().digest) !=
        std::string::npos);
  CHECK(f.json({"images", "ls"}) == before);
  CHECK(f.json({"registry", "status"})["health"] == "healthy");

  // Offline: the upstream gone, the cache emptied; the bundle brings every image back, and
  // the registry, started again, serves them from its cache alone.
  f.upstream.stop();
  // Both name the storage they act on (the test's cache, not the default one).
  const std::string storage = f.json({"registry", "status"})["storage"];
  const auto stopped = f.labctl->run({"registry", "stop"});
  REQUIRE(stopped.exit_code == 0);
  CHECK(stopped.out.find("its cache stays in " + storage + "\n") != std::string::npos);
  const auto pruned = f.labctl->run({"registry", "prune"});
  REQUIRE(pruned.exit_code == 0);
  CHECK(pruned.out.find("cached layers from " + storage + "\n") != std::string::npos);
  CHECK(f.json({"images", "ls"})["cached"].empty());
  const auto loaded = f.json({"images", "load", bundle.string()});
  CHECK(loaded["images"].size() == 3);
  const auto listed = f.json({"images", "ls"});
  REQUIRE(listed["cached"].size() == 3);
  for (const auto& image : listed["cached"]) {
    CHECK(image["complete"] == true);
  }
  const auto pulled = f.labctl->run({"images", "pull"});
  INFO(pulled.out << pulled.err);
  CHECK(pulled.exit_code == 0);
  CHECK(pulled.err.find("serves only what its cache holds") != std::string::npos);
}

TEST_CASE("plan refuses a version the registries lack, at its key, with the nearest tags",
          "[system]") {
  Fixture f;
  if (!f.start()) {
    return;
  }
  std::string text;
  {
    std::ifstream in(f.scratch.path() / "lab.yaml");
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  const auto at = text.find("version: 5.1.0");
  REQUIRE(at != std::string::npos);
  text.replace(at, 14, "version: 1.7.4");
  std::ofstream(f.scratch.path() / "lab.yaml") << text;
  const auto plan = f.labctl->run({"plan", "--all"});
  CHECK(plan.exit_code == 2);
  const std::string where = fmt::format("{}:14:", (f.scratch.path() / "lab.yaml").string());
  CHECK(plan.err.find(where) != std::string::npos);
  CHECK(plan.err.find("template.vms.vm1.instances[1].version: image "
                      "squashtest/squash-tm:1.7.4 does not exist") != std::string::npos);
  CHECK(plan.err.find("nearest tags: 5.1.0, 6.0.0") != std::string::npos);
}

namespace {

// A small file system of its own (tmpfs), unmounted at the end.
struct SmallDisk {
  fs::path path;
  bool mounted = false;
  SmallDisk(const fs::path& at, const std::string& size) : path(at) {
    fs::create_directories(path);
    labctl::sys::SystemRunner run;
    auto r = run.run({"mount", "-t", "tmpfs", "-o", "size=" + size, "lct-small", path.string()});
    mounted = r && r->exit_code == 0;
  }
  ~SmallDisk() {
    if (mounted) {
      labctl::sys::SystemRunner run;
      (void)run.run({"umount", "-l", path.string()});
    }
  }
};

// Every layer blob (not config, not manifest) of the pushed images found in a storage.
std::vector<std::string> stored_layers(const Fixture& f, const fs::path& storage) {
  std::vector<std::string> found;
  for (const auto& [name, image] : f.pushed) {
    for (const auto& layer : image.layers) {
      if (labctl::registry::stored_blob(storage, layer.digest)) {
        found.push_back(name);
      }
    }
  }
  return found;
}

}  // namespace

TEST_CASE("a disk too small for the images is refused before a layer is stored", "[system]") {
  Fixture f;
  if (!f.start(24 << 20)) {  // squash-tm 6.0.0 has a 24 MiB layer
    return;
  }
  SmallDisk disk(f.scratch.path() / "small", "20m");
  if (!disk.mounted) {
    WARN("SKIPPED: cannot mount a tmpfs (not root?)");
    return;
  }
  // A cache of its own on the small disk, for pull and for load.
  const fs::path bundle = f.scratch.path() / "images.tar";
  REQUIRE(f.labctl->run({"images", "save", bundle.string()}).exit_code == 0);
  REQUIRE(f.labctl->run({"registry", "stop"}).exit_code == 0);
  LabctlCli small(f.scratch.path(), labctl::testing::LabctlCliOptions{
                                        .global_args = {"--connect", "test:///default"},
                                        .env = {{"LABCTL_REGISTRY", ""},
                                                {"LABCTL_UPSTREAM", ""},
                                                {"LABCTL_REGISTRY_CACHE", disk.path.string()}}});
  const fs::path storage = disk.path / "registry" / "data";
  const auto pulled = small.run({"images", "pull"});
  INFO(pulled.out << pulled.err);
  CHECK(pulled.exit_code == 1);
  CHECK(pulled.err.find("the classroom registry's storage " + disk.path.string()) !=
        std::string::npos);
  CHECK(pulled.err.find("MiB free; the classroom's 3 images need 24.0 MiB more") !=
        std::string::npos);
  CHECK(stored_layers(f, storage).empty());
  // The proxy keeps the manifests it served to tell the sizes (a few KiB), never an image.
  const auto listed = nlohmann::json::parse(small.run({"--json", "images", "ls"}).out);
  for (const auto& image : listed["cached"]) {
    CHECK(image["complete"] == false);
  }
  // The same disk refuses the bundle whole.
  const auto loaded = small.run({"images", "load", bundle.string()});
  INFO(loaded.out << loaded.err);
  CHECK(loaded.exit_code == 1);
  CHECK(loaded.err.find("the bundle's blobs that it lacks need 24.0 MiB more") !=
        std::string::npos);
  CHECK(stored_layers(f, storage).empty());
  small.run({"registry", "stop"});
}
