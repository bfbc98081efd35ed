#include "provision/sys/printable.hpp"

#include <catch2/catch.hpp>

using labctl::sys::printable;
namespace sys = labctl::sys;

TEST_CASE("printable: text from input cannot drive the terminal", "[unit]") {
  SECTION("printable text, UTF-8 included, is kept") {
    CHECK(printable("team3/vm1 done: ok") == "team3/vm1 done: ok");
    CHECK(printable("salle \xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xa7") ==
          "salle \xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xa7");
    CHECK(printable("C:\\Users") == "C:\\Users");
    CHECK(printable("").empty());
  }
  SECTION("C0 controls and DEL are escaped") {
    CHECK(printable("a\nb\rc\td") == "a\\nb\\rc\\td");
    CHECK(printable("\x1b[2J\x1b[32mok") == "\\x1b[2J\\x1b[32mok");
    CHECK(printable(std::string("\0\x07\x7f", 3)) == "\\x00\\x07\\x7f");
  }
  SECTION("C1 controls and invisible line and bidi controls are escaped") {
    CHECK(printable("\xc2\x9b"
                    "31m") == "\\u009b31m");
    CHECK(printable("a\xc2\x85z") == "a\\u0085z");
    CHECK(printable("\xe2\x80\xa8\xe2\x80\xae\xe2\x81\xa6") == "\\u2028\\u202e\\u2066");
  }
  SECTION("bytes that are not UTF-8 are escaped one by one") {
    CHECK(printable("\xff\xfe") == "\\xff\\xfe");
    CHECK(printable("\xc3") == "\\xc3");                    // truncated
    CHECK(printable("\xc0\xaf") == "\\xc0\\xaf");           // overlong '/'
    CHECK(printable("\xed\xa0\x80") == "\\xed\\xa0\\x80");  // a surrogate
    CHECK(printable("\xe2\x82x") == "\\xe2\\x82x");
  }
}

TEST_CASE("printable_message keeps labctl's indented lines, escapes a line from input", "[unit]") {
  CHECK(sys::printable_message("up failed:\n  blue/vm1: stage address failed\n      | panic") ==
        "up failed:\n  blue/vm1: stage address failed\n      | panic");
  CHECK(sys::printable_message("no team 'a\nok: done'") == "no team 'a\\nok: done'");
  CHECK(sys::printable_message("trailing\n") == "trailing\\n");
  CHECK(sys::printable_message("\x1b[32m\n  x\r") == "\\x1b[32m\n  x\\r");
}
