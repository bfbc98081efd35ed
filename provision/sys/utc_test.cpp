#include <regex>

#include <catch2/catch.hpp>

#include "provision/sys/utc.hpp"

TEST_CASE("utc_now: ISO 8601 in UTC, to the second", "[unit]") {
  const std::string now = labctl::sys::utc_now();
  CHECK(std::regex_match(
      now, std::regex(R"(20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z)")));
}
