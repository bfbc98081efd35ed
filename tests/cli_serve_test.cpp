#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/golden.hpp"
#include "tests/support/labctl_cli.hpp"

// `labctl serve` as the executable takes it (the console itself: provision/web/ and
// tests/console_browser_test.cpp): the login URL printed again the same, the token 0600 in
// the state directory, a listen address beyond loopback refused without TLS, and bad flags
// refused before anything is made.

namespace {

using labctl::testing::LabctlCli;
using labctl::testing::ScratchDir;

}  // namespace

TEST_CASE("labctl serve: the login URL, the token kept, the address checked", "[exe]") {
  ScratchDir scratch("lct-serve");
  const LabctlCli labctl{scratch.path(), {.global_args = {"--connect", "test:///default"}}};
  std::ofstream(scratch.path() / "lab.yaml") << labctl::testing::small_lab_text("srv", "[red]");
  const auto token_file = scratch.path() / "state" / "srv" / "secrets" / "console-token";

  SECTION("beyond loopback without TLS: refused, nothing made") {
    const auto run = labctl.run({"serve", "--listen", "0.0.0.0:8800", "--print-url"});
    CHECK(run.exit_code == 2);
    CHECK(run.err.find("needs --tls-cert and --tls-key") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(token_file));
    const auto half = labctl.run({"serve", "--listen", "127.0.0.1:8800", "--tls-cert", "x.pem"});
    CHECK(half.exit_code == 2);
    CHECK(half.err.find("--tls-cert and --tls-key go together") != std::string::npos);
    const auto missing = labctl.run(
        {"serve", "--tls-cert", "/nonexistent/c.pem", "--tls-key", "/nonexistent/k.pem"});
    CHECK(missing.exit_code == 2);
    CHECK(missing.err.find("/nonexistent/c.pem: no such file") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(token_file));
    const auto bad = labctl.run({"serve", "--listen", "8800"});
    CHECK(bad.exit_code == 2);
    CHECK(bad.err.find("ADDR:PORT") != std::string::npos);
  }
  SECTION("--print-url: the same URL each time, its token 0600 in the state directory") {
    const auto first = labctl.run({"serve", "--listen", "127.0.0.1:18800", "--print-url"});
    REQUIRE(first.exit_code == 0);
    std::smatch m;
    REQUIRE(std::regex_search(
        first.out, m, std::regex(R"(^http://127\.0\.0\.1:18800/login\?token=([0-9a-f]{64})\n$)")));
    const std::string token = m[1];
    const auto again = labctl.run({"serve", "--listen", "127.0.0.1:18800", "--print-url"});
    CHECK(again.out == first.out);
    REQUIRE(std::filesystem::exists(token_file));
    CHECK((std::filesystem::status(token_file).permissions() & std::filesystem::perms::all) ==
          (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
    std::ifstream in(token_file);
    std::string kept;
    std::getline(in, kept);
    CHECK(kept == token);
    CHECK(first.err.find(token) == std::string::npos);  // only on stdout, once asked
    const auto json = labctl.run({"--json", "serve", "--listen", "127.0.0.1:18800", "--print-url"});
    REQUIRE(json.exit_code == 0);
    CHECK(nlohmann::json::parse(json.out)["login_url"] ==
          first.out.substr(0, first.out.size() - 1));
  }
}
