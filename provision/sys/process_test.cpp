#include "provision/sys/process.hpp"

#include <catch2/catch.hpp>

using labctl::sys::SystemRunner;

TEST_CASE("SystemRunner runs programs without a shell", "[unit]") {
  SystemRunner runner;
  SECTION("stdout, stderr and exit code come back") {
    auto r = runner.run({"sh", "-c", "echo out; echo err >&2; exit 3"});
    REQUIRE(r.ok());
    CHECK(r->out == "out\n");
    CHECK(r->err == "err\n");
    CHECK(r->exit_code == 3);
  }
  SECTION("stdin is fed and large output does not block") {
    std::string input(300000, 'x');
    auto r = runner.run({"cat"}, {.input = input});
    REQUIRE(r.ok());
    CHECK(r->out == input);
  }
  SECTION("arguments are not interpreted by a shell") {
    auto r = runner.run({"echo", "$HOME; rm -rf /"});
    REQUIRE(r.ok());
    CHECK(r->out == "$HOME; rm -rf /\n");
  }
  SECTION("a missing program is an error value") {
    auto r = runner.run({"labctl-no-such-program"});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message == "labctl-no-such-program: program not found");
  }
  SECTION("run_checked turns a failure into an error with the last stderr line") {
    auto r = labctl::sys::run_checked(runner, {"sh", "-c", "echo one >&2; echo two >&2; exit 1"});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message == "sh exited with 1: two");
  }
}
