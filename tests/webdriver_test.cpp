// The tests' browser driver (tests/support/webdriver.hpp) against a real headless Chromium
// and a small page served from this process: one Browser for the whole case (starting
// Chromium is the slow part), then every method in turn, then that nothing of it is left.

#include <mutex>
#include <thread>

#include <httplib.h>
#include <catch2/catch.hpp>

#include "tests/support/webdriver.hpp"

namespace {

namespace t = labctl::testing;

// A form, a <select>, a confirm(), a fetch() that POSTs, and hostile text set as text.
constexpr const char* k_page = R"html(<!doctype html>
<html><head><title>labctl webdriver test</title></head><body>
<h1 id="title">Classroom</h1>
<form id="form" onsubmit="event.preventDefault();
    document.getElementById('echo').textContent =
        document.getElementById('name').value + '/' + document.getElementById('size').value;">
  <input id="name" value="old name">
  <select id="size" onchange="this.dataset.changed = 'yes'">
    <option value="s">Small</option><option value="m">Medium</option>
    <option value="l">Large</option>
  </select>
  <button id="save" type="submit">Save</button>
</form>
<p id="echo"></p>
<ul><li class="team">one</li><li class="team">two</li><li class="team">three</li></ul>
<button id="remove" onclick="document.getElementById('answer').textContent =
    confirm('Remove team 3?') ? 'yes' : 'no'">Remove</button>
<p id="answer"></p>
<button id="post" onclick="fetch('/api/teams', {method: 'POST',
    headers: {'Content-Type': 'application/json'}, body: JSON.stringify({team: 3})})
    .then(r => r.text()).then(t => document.getElementById('posted').textContent = t)">Post</button>
<p id="posted"></p>
<p id="hostile"></p>
<script>
  document.getElementById('hostile').textContent = 'team <script>alert(1)<\/script>';
</script>
</body></html>
)html";

// The page on 127.0.0.1 (a port the kernel picks), in a thread; stopped with the object.
class PageServer {
 public:
  PageServer() {
    m_server.Get("/", [](const httplib::Request&, httplib::Response& response) {
      response.set_content(k_page, "text/html; charset=utf-8");
    });
    m_server.Post("/api/teams",
                  [this](const httplib::Request& request, httplib::Response& response) {
                    const std::lock_guard lock(m_mutex);
                    m_posted.push_back(request.body);
                    response.set_content("saved", "text/plain");
                  });
    m_port = m_server.bind_to_any_port("127.0.0.1");
    m_thread = std::thread([this] { m_server.listen_after_bind(); });
  }
  ~PageServer() {
    m_server.stop();
    m_thread.join();
  }
  PageServer(const PageServer&) = delete;
  PageServer& operator=(const PageServer&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port) + "/"; }
  std::vector<std::string> posted() {
    const std::lock_guard lock(m_mutex);
    return m_posted;
  }

 private:
  httplib::Server m_server;
  int m_port = -1;
  std::thread m_thread;
  std::mutex m_mutex;
  std::vector<std::string> m_posted;
};

// The width in a PNG's IHDR chunk (big-endian, bytes 16 to 19).
int png_width(const std::string& png) {
  int width = 0;
  for (std::size_t i = 16; i < 20 && i < png.size(); ++i) {
    width = (width << 8) | static_cast<unsigned char>(png[i]);
  }
  return width;
}

}  // namespace

TEST_CASE("Browser drives a headless Chromium over WebDriver", "[browser]") {
  if (const auto why = t::browser_missing()) {
    WARN("SKIPPED: " << *why);
    return;
  }
  PageServer server;
  REQUIRE(server.url() != "http://127.0.0.1:-1/");
  auto started = t::Browser::start();
  INFO((started ? "" : started.error().message));
  REQUIRE(started.ok());
  std::unique_ptr<t::Browser> browser = std::move(started.value());

  // go, url, text, count, source
  REQUIRE(browser->go(server.url()).ok());
  CHECK(browser->url() == server.url());
  CHECK(browser->text("#title").value() == "Classroom");
  CHECK(browser->count(".team").value() == 3);
  CHECK(browser->count(".absent").value() == 0);
  const auto absent = browser->text("#absent");
  REQUIRE_FALSE(absent.ok());
  CHECK(absent.error().cause == labctl::ErrorCause::not_found);
  CHECK(browser->source().value().find("<h1 id=\"title\">Classroom</h1>") != std::string::npos);

  // Hostile text set with textContent stays text: no element, no alert.
  CHECK(browser->text("#hostile").value() == "team <script>alert(1)</script>");
  CHECK(browser->count("#hostile script").value() == 0);
  CHECK(browser->dialog_text().error().cause == labctl::ErrorCause::not_found);

  // type clears first; select picks by value as a user would (the page sees the change).
  REQUIRE(browser->type("#name", "Team 3").ok());
  CHECK(browser->script("return document.getElementById('name').value;").value() == "Team 3");
  REQUIRE(browser->select("#size", "l").ok());
  CHECK(browser->script("return document.getElementById('size').dataset.changed;").value() ==
        "yes");
  CHECK(browser->select("#size", "xl").error().cause == labctl::ErrorCause::not_found);
  REQUIRE(browser->click("#save").ok());
  CHECK(browser->text("#echo").value() == "Team 3/l");

  // script takes arguments and returns values
  CHECK(browser->script("return arguments[0] + arguments[1];", {2, 3}).value() == 5);
  CHECK(browser->script("return {a: [1, 'x']};").value() == nlohmann::json{{"a", {1, "x"}}});
  CHECK_FALSE(browser->script("throw new Error('boom');").ok());

  // confirm(): accepted, then dismissed
  REQUIRE(browser->click("#remove").ok());
  CHECK(browser->dialog_text().value() == "Remove team 3?");
  REQUIRE(browser->accept_dialog().ok());
  CHECK(browser->wait_for("document.getElementById('answer').textContent === 'yes'").ok());
  REQUIRE(browser->click("#remove").ok());
  REQUIRE(browser->dismiss_dialog().ok());
  CHECK(browser->wait_for("document.getElementById('answer').textContent === 'no'").ok());
  CHECK_FALSE(browser->accept_dialog().ok());

  // fetch() POSTs to the server
  REQUIRE(browser->click("#post").ok());
  CHECK(browser->wait_for("document.getElementById('posted').textContent === 'saved'").ok());
  CHECK(server.posted() == std::vector<std::string>{R"({"team":3})"});

  // wait_for gives up in time and says what it last saw
  const auto before = std::chrono::steady_clock::now();
  const auto late =
      browser->wait_for("document.title.length > 1000 && 'never'", std::chrono::milliseconds(300));
  REQUIRE_FALSE(late.ok());
  CHECK(late.error().message.find("last seen: false") != std::string::npos);
  CHECK(std::chrono::steady_clock::now() - before < std::chrono::seconds(5));

  // The window is 1280 wide, then resized; the screenshot is a PNG of the viewport.
  CHECK(browser->script("return window.outerWidth;").value() == 1280);
  REQUIRE(browser->set_window(800, 600).ok());
  CHECK(browser->script("return window.outerWidth;").value() == 800);
  t::ScratchDir scratch("lct-webdriver");
  const auto png = scratch.path() / "page.png";
  REQUIRE(browser->screenshot(png).ok());
  const std::string bytes = t::read_file(png);
  CHECK(bytes.substr(0, 8) == std::string("\x89PNG\r\n\x1a\n", 8));
  CHECK(png_width(bytes) == browser->script("return window.innerWidth;").value());

  // Nothing of the browser outlives it.
  const pid_t group = browser->driver_pid();
  const std::vector<pid_t> pids = browser->processes();
  CHECK(pids.size() >= 2);  // chromedriver and Chromium
  browser.reset();
  for (const pid_t pid : pids) {
    INFO("pid " << pid);
    CHECK_FALSE(t::process_running(pid));
  }
  CHECK(t::running_in_group(group).empty());
}
