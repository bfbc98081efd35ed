#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include <catch2/catch.hpp>

#include "provision/images/cache.hpp"
#include "provision/images/images.hpp"
#include "provision/sys/process.hpp"
#include "tests/support/golden.hpp"
#include "tests/support/http.hpp"

namespace labctl::images {
namespace fs = std::filesystem;
namespace {

// The real client, counting downloads and remembering whether the last one resumed.
class CountingHttp : public sys::HttpClient {
 public:
  Result<sys::HttpResponse> get(const sys::HttpRequest& request) override {
    return m_curl.get(request);
  }
  Result<sys::DownloadResult> download(const std::string& url, const std::string& path,
                                       const sys::ProgressFn& progress) override {
    ++downloads;
    auto result = m_curl.download(url, path, progress);
    if (result) {
      resumed = result->resumed;
    }
    return result;
  }
  std::atomic<int> downloads{0};
  std::atomic<bool> resumed{false};

 private:
  sys::CurlHttpClient m_curl;
};

std::string qcow2_like_content() {
  std::string content = std::string("QFI\xfb", 4);
  std::mt19937 random(42);
  for (int i = 0; i < 300000; ++i) {
    content += static_cast<char>(random() & 0xff);
  }
  return content;
}

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

}  // namespace

TEST_CASE("pull an image over HTTP", "[unit][images]") {
  REQUIRE(sys::on_path("busybox"));
  labctl::testing::ScratchDir scratch("lct-images-pull");
  const fs::path www = scratch.path() / "www";
  fs::create_directories(www);
  const std::string content = qcow2_like_content();
  const std::string sha = digest_hex(DigestKind::sha256, content);
  write_file(www / "disk.qcow2", content);
  write_file(www / "SHA256SUMS", std::string(64, '0') + "  other.qcow2\n" + sha + "  disk.qcow2\n");
  labctl::testing::LocalHttpd httpd(www);
  REQUIRE(httpd.running());

  model::Image image;
  image.name = "lct-images-test";
  image.url = httpd.url("disk.qcow2");
  image.checksum_url = httpd.url("SHA256SUMS");
  PullOptions options;
  options.cache_dir = (scratch.path() / "cache").string();
  std::uint64_t last_done = 0;
  options.progress = [&](std::uint64_t done, std::uint64_t) { last_done = done; };
  CountingHttp http;

  SECTION("good download verified by SHA256SUMS, then served from the cache") {
    auto paths = pull_image(image, options, http);
    REQUIRE(paths.ok());
    CHECK(paths->boot == model::BootMode::disk);
    CHECK(paths->kernel.empty());
    CHECK(fs::path(paths->disk).filename() == "disk.qcow2");
    CHECK(labctl::testing::read_file(paths->disk) == content);
    CHECK(fs::exists(paths->dir + "/recipe.json"));
    CHECK(last_done == content.size());
    auto again = pull_image(image, options, http);
    REQUIRE(again.ok());
    CHECK(again->disk == paths->disk);
    CHECK(http.downloads == 1);
  }
  SECTION("a truncated .part is resumed with a Range request") {
    const std::string dir = image_dir(options.cache_dir, image.name, pull_key(image));
    fs::create_directories(dir);
    write_file(dir + "/disk.qcow2.part", content.substr(0, 123457));
    auto paths = pull_image(image, options, http);
    REQUIRE(paths.ok());
    CHECK(http.resumed);
    CHECK(labctl::testing::read_file(paths->disk) == content);
  }
  SECTION("a checksum mismatch is an error and the file is deleted") {
    image.checksum_url.clear();
    image.sha256 = std::string(64, 'f');
    auto paths = pull_image(image, options, http);
    REQUIRE_FALSE(paths.ok());
    CHECK(paths.error().message == "checksum mismatch for disk.qcow2: expected sha256 " +
                                       std::string(64, 'f') + ", got " + sha);
    const std::string dir = image_dir(options.cache_dir, image.name, pull_key(image));
    CHECK_FALSE(fs::exists(dir + "/disk.qcow2.part"));
    CHECK_FALSE(fs::exists(dir + "/disk.qcow2"));
    CHECK_FALSE(fs::exists(dir + "/recipe.json"));
  }
  SECTION("a pinned sha256 is enough") {
    image.checksum_url.clear();
    image.sha256 = sha;
    auto paths = pull_image(image, options, http);
    REQUIRE(paths.ok());
    CHECK(labctl::testing::read_file(paths->disk) == content);
  }
  SECTION("a file the checksum list does not name is refused") {
    write_file(www / "SHA256SUMS", sha + "  renamed.qcow2\n");
    auto paths = pull_image(image, options, http);
    REQUIRE_FALSE(paths.ok());
    CHECK(paths.error().message.find("lists no digest for disk.qcow2") != std::string::npos);
    CHECK(http.downloads == 0);
  }
  SECTION("a checksum list the server does not have is an error naming the status") {
    image.checksum_url = httpd.url("SHA512SUMS");
    auto paths = pull_image(image, options, http);
    REQUIRE_FALSE(paths.ok());
    CHECK(paths.error().message == "download of " + image.checksum_url +
                                       " failed: HTTP response code said error (HTTP 404)");
    CHECK(http.downloads == 0);
  }
  SECTION("concurrent pulls of one image download it once") {
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int i = 0; i < 4; ++i) {
      threads.emplace_back([&] {
        PullOptions quiet = options;
        quiet.progress = nullptr;
        ok += pull_image(image, quiet, http).ok() ? 1 : 0;
      });
    }
    for (auto& thread : threads) {
      thread.join();
    }
    CHECK(ok == 4);
    CHECK(http.downloads == 1);
  }
}

TEST_CASE("ensure_image chooses pull or build", "[unit][images]") {
  model::Image image;
  image.name = "nothing";
  sys::SystemRunner runner;
  sys::CurlHttpClient http;
  auto result = ensure_image(image, {}, runner, http);
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().message == "image nothing has neither a url to pull nor a recipe to build");
  image.build = "windows-11";
  result = ensure_image(image, {}, runner, http);
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().message == "unknown image recipe 'windows-11' (known: debian-12)");
}

}  // namespace labctl::images
