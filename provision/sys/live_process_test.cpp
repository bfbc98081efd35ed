#include "provision/sys/live_process.hpp"

#include <catch2/catch.hpp>

using labctl::sys::start_live_process;
using Clock = std::chrono::steady_clock;

namespace {

// Reads until `want` has arrived on stdout or the child ends; at most 10 s.
std::string read_until(labctl::sys::LiveProcess& child, const std::string& want) {
  std::string out, err;
  const auto give_up = Clock::now() + std::chrono::seconds(10);
  while (out.find(want) == std::string::npos && Clock::now() < give_up &&
         child.read(out, err, give_up)) {
  }
  return out;
}

}  // namespace

TEST_CASE("a live process answers each write, as often as asked", "[unit]") {
  auto cat = start_live_process({"cat"});
  REQUIRE(cat.ok());
  REQUIRE((*cat)->write("one\n").ok());
  CHECK(read_until(**cat, "one\n") == "one\n");
  REQUIRE((*cat)->write("two\n").ok());
  CHECK(read_until(**cat, "two\n") == "two\n");
}

TEST_CASE("a live process: deadlines, the end of the child, kill", "[unit]") {
  SECTION("a child that says nothing: read returns at the deadline") {
    auto quiet = start_live_process({"sleep", "30"});
    REQUIRE(quiet.ok());
    std::string out, err;
    const auto start = Clock::now();
    CHECK((*quiet)->read(out, err, start + std::chrono::milliseconds(100)));
    CHECK(Clock::now() - start < std::chrono::seconds(5));
    CHECK(out.empty());
    (*quiet)->kill();
    CHECK_FALSE((*quiet)->write("x\n").ok());
  }
  SECTION("a child that ends: its last words, then false") {
    auto ending = start_live_process({"sh", "-c", "echo bye; echo oops >&2"});
    REQUIRE(ending.ok());
    std::string out, err;
    const auto give_up = Clock::now() + std::chrono::seconds(10);
    while ((*ending)->read(out, err, give_up) && Clock::now() < give_up) {
    }
    CHECK(out == "bye\n");
    CHECK(err == "oops\n");
  }
  SECTION("a program that does not exist") {
    auto missing = start_live_process({"labctl-no-such-program"});
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().message == "labctl-no-such-program: program not found");
  }
}
