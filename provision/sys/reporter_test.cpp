#include "provision/sys/reporter.hpp"

#include <cstdio>
#include <string>

#include <catch2/catch.hpp>

using namespace labctl::sys;

namespace {

// What a reporter of `style` draws for `event`.
std::string drawn(ReportStyle style, const Event& event) {
  std::FILE* out = std::tmpfile();
  REQUIRE(out != nullptr);
  auto reporter = make_reporter(style, out);
  reporter->report(event);
  reporter->finish();
  std::rewind(out);
  std::string text;
  for (int c = std::fgetc(out); c != EOF; c = std::fgetc(out)) {
    text += static_cast<char>(c);
  }
  std::fclose(out);
  return text;
}

}  // namespace

TEST_CASE("progress lines escape what came from input", "[unit]") {
  const Event event{"team\x1b[2J",
                    "vm1",
                    "stage ssh",
                    EventState::failed,
                    "refused\r\x1b[32mteam3/vm1 done\nfake",
                    1.5};
  CHECK(drawn(ReportStyle::plain, event) ==
        "team\\x1b[2J/vm1 FAILED   stage ssh (1.5s): refused\\r\\x1b[32mteam3/vm1 done\\nfake\n");
  const std::string live = drawn(ReportStyle::live, event);
  CHECK(live.find("team\\x1b[2J/vm1") != std::string::npos);
  CHECK(live.find("\r") == std::string::npos);
  CHECK(live.find("\x1b[2J") == std::string::npos);
  CHECK(live.find("done\\nfake") != std::string::npos);
}
