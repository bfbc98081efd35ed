#include <thread>

#include <catch2/catch.hpp>

#include "provision/web/events.hpp"

using namespace labctl;
using namespace std::chrono_literals;

TEST_CASE("console events: numbered, kept, waited for, one line each", "[unit][web]") {
  web::EventHub hub(3);
  CHECK(hub.after(0, 10ms).empty());  // nothing yet: the wait ends
  CHECK(hub.publish("classroom", {{"probed", "t"}}) == 1);
  web::HubReporter reporter(hub, 7);
  reporter.report({"team3", "vm2", "stage ssh", sys::EventState::done, "line1\nline2", 1.5});
  auto got = hub.after(0, 0ms);
  REQUIRE(got.size() == 2);
  CHECK(got[1].event == "progress");
  CHECK(got[1].team == "team3");
  CHECK(got[1].data["action"] == 7);
  CHECK(got[1].data["state"] == "done");
  const std::string frame = web::sse_frame(got[1]);
  CHECK(frame.starts_with("id: 2\nevent: progress\ndata: {"));
  CHECK(frame.ends_with("}\n\n"));
  CHECK(frame.find("line1\\nline2") != std::string::npos);  // the newline stays inside JSON
  CHECK(std::count(frame.begin(), frame.end(), '\n') == 4);

  for (int i = 0; i < 5; ++i) {
    hub.publish("classroom", {{"i", i}});
  }
  got = hub.after(0, 0ms);
  REQUIRE(got.size() == 3);  // only the last three are kept
  CHECK(got.front().id == 5);
  CHECK(hub.after(7, 0ms).empty());

  std::thread later([&] {
    std::this_thread::sleep_for(50ms);
    hub.publish("action", {{"id", 1}});
  });
  got = hub.after(7, 5s);
  later.join();
  REQUIRE(got.size() == 1);
  CHECK(got[0].event == "action");

  std::thread closer([&] {
    std::this_thread::sleep_for(50ms);
    hub.close();
  });
  const auto began = std::chrono::steady_clock::now();
  CHECK(hub.after(hub.last(), 30s).empty());
  closer.join();
  CHECK(std::chrono::steady_clock::now() - began < 10s);
  CHECK(hub.closed());
}
