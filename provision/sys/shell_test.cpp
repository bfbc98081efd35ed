#include "provision/sys/shell.hpp"

#include <catch2/catch.hpp>

using namespace labctl;

TEST_CASE("shell_quote makes any value one inert word", "[unit]") {
  CHECK(sys::shell_quote("plain") == "'plain'");
  CHECK(sys::shell_quote("it's; rm -rf / $(x) `y`") == "'it'\\''s; rm -rf / $(x) `y`'");
  sys::SystemRunner run;
  auto r = run.run({"sh", "-c", "printf %s " + sys::shell_quote("a'b $HOME;`c`")});
  REQUIRE(r.ok());
  CHECK(r->out == "a'b $HOME;`c`");
}
