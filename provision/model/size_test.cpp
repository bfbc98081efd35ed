#include "provision/model/size.hpp"

#include <catch2/catch.hpp>

using labctl::model::Bytes;
using labctl::model::format_size;
using labctl::model::k_gib;
using labctl::model::k_mib;
using labctl::model::parse_size;

TEST_CASE("sizes in lab files are binary and strict", "[unit][model]") {
  SECTION("accepted spellings") {
    const std::vector<std::pair<std::string, Bytes>> table = {
        {"2GiB", 2 * k_gib},  {"2048MiB", 2 * k_gib},    {"2G", 2 * k_gib}, {"512M", 512 * k_mib},
        {"1024KiB", k_mib},   {"1048576", k_mib},        {"1K", 1024},      {"1T", 1024 * k_gib},
        {"2 GiB", 2 * k_gib}, {"1536MiB", 1536 * k_mib},
    };
    for (const auto& [text, bytes] : table) {
      INFO(text);
      const auto parsed = parse_size(text);
      REQUIRE(parsed.ok());
      CHECK(*parsed == bytes);
    }
  }
  SECTION("rejected spellings name the value") {
    const std::vector<std::pair<std::string, std::string>> table = {
        {"2 bananas", "invalid size '2 bananas' (use e.g. 2GiB, 512MiB)"},
        {"-1G", "invalid size '-1G' (use e.g. 2GiB, 512MiB)"},
        {"0", "invalid size '0' (must be more than zero)"},
        {"0GiB", "invalid size '0GiB' (must be more than zero)"},
        {"2GB", "invalid size '2GB' (use e.g. 2GiB, 512MiB)"},
        {"1.5G", "invalid size '1.5G' (use e.g. 2GiB, 512MiB)"},
        {"GiB", "invalid size 'GiB' (use e.g. 2GiB, 512MiB)"},
        {"", "invalid size '' (use e.g. 2GiB, 512MiB)"},
        {"99999999999G", "invalid size '99999999999G' (too large)"},
        {"99999999999999999999999", "invalid size '99999999999999999999999' (too large)"},
    };
    for (const auto& [text, message] : table) {
      INFO(text);
      const auto parsed = parse_size(text);
      REQUIRE_FALSE(parsed.ok());
      CHECK(parsed.error().message == message);
    }
  }
  SECTION("formatting picks the largest exact unit") {
    CHECK(format_size(2 * k_gib) == "2GiB");
    CHECK(format_size(2176 * k_mib) == "2176MiB");
    CHECK(format_size(3 * 1024) == "3KiB");
    CHECK(format_size(1000) == "1000");
  }
}
