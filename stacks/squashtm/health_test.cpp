#include "stacks/squashtm/health.hpp"

#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "provision/sys/process.hpp"
#include "tests/support/golden.hpp"
#include "tests/support/http.hpp"

namespace labctl::squashtm {
namespace {

using namespace std::chrono_literals;

const std::string k_alive = "http://10.1.2.3:8081/squash/isSquashAlive";

// "healthy|unhealthy, HTTP <status>: <first line>", the whole answer at once.
std::string summary(const Health& health) {
  return fmt::format("{}, HTTP {}: {}", health.healthy ? "healthy" : "unhealthy",
                     health.http_status, health.first_line);
}

}  // namespace

TEST_CASE("probe_health asks the instance itself, briefly, and reads only the status", "[unit]") {
  testing::FakeHttp http;
  const auto answered = [&http](long status, const std::string& body) {
    http.on(k_alive, sys::HttpResponse{status, body});
    return summary(probe_health(http, "10.1.2.3", 8081));
  };

  SECTION("the request: the instance's page, its own timeout, no proxy, no redirect") {
    (void)probe_health(http, "10.1.2.3", 8081, 1500ms);
    REQUIRE(http.requests().size() == 1);
    const sys::HttpRequest& asked = http.requests()[0];
    CHECK(asked.url == k_alive);
    CHECK(asked.timeout == 1500ms);
    CHECK(asked.max_body == 4096);
    CHECK_FALSE(asked.use_proxy);
    CHECK_FALSE(asked.follow_redirects);
  }
  SECTION("200 is healthy; the line shown is the body's first") {
    CHECK(answered(200, "Squash is Alive! version 6.0.0\r\nmore\n") ==
          "healthy, HTTP 200: Squash is Alive! version 6.0.0");
  }
  SECTION("any other status is unhealthy, whatever the body says") {
    CHECK(answered(503, "Squash is Alive!") == "unhealthy, HTTP 503: Squash is Alive!");
  }
  SECTION("no answer: unhealthy, status 0, the transport's error as the line") {
    CHECK(summary(probe_health(http, "10.1.2.3", 8081)) ==
          "unhealthy, HTTP 0: download of " + k_alive + " failed: Couldn't connect to server");
  }
}

TEST_CASE("probe_health against a real HTTP server on loopback", "[unit]") {
  REQUIRE(sys::on_path("busybox"));
  testing::ScratchDir scratch("lct-health");
  const std::filesystem::path www = scratch.path() / "www";
  std::filesystem::create_directories(www / "squash");
  testing::LocalHttpd httpd(www);
  REQUIRE(httpd.running());
  sys::CurlHttpClient http;
  const auto probe = [&http](int port) {
    return summary(probe_health(http, "127.0.0.1", port, 2000ms));
  };

  SECTION("the page is there: healthy, with its first line") {
    std::ofstream(www / "squash/isSquashAlive") << "Squash is Alive! version 6.0.0\n";
    CHECK(probe(httpd.port()) == "healthy, HTTP 200: Squash is Alive! version 6.0.0");
  }
  SECTION("the server answers without the page: unhealthy, with the status") {
    CHECK(probe(httpd.port()).starts_with("unhealthy, HTTP 404: "));
  }
  SECTION("nothing listens: unhealthy, status 0, curl's reason") {
    CHECK_THAT(probe(testing::free_loopback_port()),
               Catch::StartsWith("unhealthy, HTTP 0: download of") &&
                   Catch::EndsWith("failed: Couldn't connect to server"));
  }
}

}  // namespace labctl::squashtm
