// The web console in a real browser (Debian's headless Chromium over WebDriver) against a
// classroom on libvirt's test driver: the token's URL opens the classroom, every VM is shown,
// an instance is added through the form and removed with its confirmation, a hostile title
// stays text, a team's link shows that team only, and without the token there is only the
// login page. The screenshot of the classroom page in docs/ is taken here.

#include <fstream>
#include <thread>

#include <httplib.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/console.hpp"
#include "tests/support/labs.hpp"
#include "tests/support/webdriver.hpp"

using namespace labctl;
using namespace std::chrono_literals;

namespace {

#define REQUIRE_OK(expr)                                             \
  do {                                                               \
    const auto& result_ = (expr);                                    \
    INFO(#expr << ": " << (result_ ? "" : result_.error().message)); \
    REQUIRE(result_.ok());                                           \
  } while (false)

// -1 when the browser could not say.
int count_of(testing::Browser& browser, const std::string& css) {
  auto n = browser.count(css);
  return n ? *n : -1;
}

std::string text_of(testing::Browser& browser, const std::string& css) {
  auto text = browser.text(css);
  return text ? *text : "";
}

}  // namespace

TEST_CASE("console in a browser: the classroom, an instance added and removed, a team's view",
          "[browser][web]") {
  if (auto missing = testing::browser_missing()) {
    WARN("SKIPPED: " << *missing);
    SUCCEED();
    return;
  }
  testing::ConsoleFixture console(
      {testing::console_lab(
           "lctb",
           "<img src=x onerror=\"document.title='pwned'\"><script>document.title='pwned'</script>"),
       false});
  auto started = testing::Browser::start();
  REQUIRE_OK(started);
  testing::Browser& browser = **started;

  // Without the token: the login page, nothing of the classroom.
  REQUIRE_OK(browser.go(console.base() + "/"));
  CHECK(count_of(browser, "#login") == 1);
  CHECK(count_of(browser, "tr.vm-row") == 0);
  REQUIRE_OK(browser.go(console.base() + "/login?token=wrong"));
  CHECK(count_of(browser, "#login") == 1);

  // The printed URL: every team and VM.
  REQUIRE_OK(browser.go(console.login_url()));
  REQUIRE_OK(browser.wait_for("document.querySelectorAll('tr.vm-row').length === 4"));
  CHECK(count_of(browser, "section.team") == 2);
  CHECK(count_of(browser, "tr[data-vm='team3/vm2'] li[data-instance='old']") == 1);
  // The hostile title is text: no element made of it, no script run.
  auto title = browser.text("#title");
  REQUIRE_OK(title);
  CHECK(title->find("<script>") != std::string::npos);
  CHECK(count_of(browser, "header img") == 0);
  auto doc_title = browser.script("return document.title");
  REQUIRE_OK(doc_title);
  CHECK(*doc_title == "labctl: lctb");
  REQUIRE_OK(
      browser.wait_for("document.getElementById('live').classList.contains('off') === false"));

  // Add an instance through the form on team3/vm1.
  const std::string form = "tr[data-vm='team3/vm1'] form.add";
  REQUIRE_OK(browser.select(form + " select.version", "5.1.0"));
  REQUIRE_OK(browser.type(form + " input.name", "extra"));
  REQUIRE_OK(browser.click(form + " button.do-add"));
  INFO("actions: " << text_of(browser, "#actions"));
  REQUIRE_OK(browser.wait_for(
      "document.querySelector(\"tr[data-vm='team3/vm1'] li[data-instance='extra']\") !== null",
      20s));
  CHECK(text_of(browser, "tr[data-vm='team3/vm1'] li[data-instance='extra'] .version") == "5.1.0");
  REQUIRE_OK(
      browser.wait_for("[...document.querySelectorAll('#actions li')].some(l => "
                       "l.textContent.includes('add 5.1.0 to team3/vm1: done'))"));

  // Remove it: asked first; dismissed, nothing happens; accepted, it goes.
  const std::string remove = "tr[data-vm='team3/vm1'] li[data-instance='extra'] button.do-remove";
  REQUIRE_OK(browser.click(remove));
  auto asked = browser.dialog_text();
  REQUIRE_OK(asked);
  CHECK(asked->find("Remove extra from team3/vm1") != std::string::npos);
  REQUIRE_OK(browser.dismiss_dialog());
  std::this_thread::sleep_for(300ms);
  CHECK(console.console().actions().size() == 1);
  REQUIRE_OK(browser.click(remove));
  REQUIRE_OK(browser.accept_dialog());
  REQUIRE_OK(browser.wait_for(
      "document.querySelector(\"tr[data-vm='team3/vm1'] li[data-instance='extra']\") === null",
      20s));
  CHECK(count_of(browser, "tr[data-vm='team3/vm1'] li[data-instance='main']") == 1);

  // The screenshot the README shows.
  REQUIRE_OK(browser.set_window(1400, 900));
  // (copied to docs/console.png when the page changes)
  const std::filesystem::path shot = std::filesystem::path(LABCTL_BINARY_DIR) / "console.png";
  REQUIRE_OK(browser.screenshot(shot));

  // A POST from the page itself, with its session cookie but without the CSRF value, is
  // refused; without the cookie too.
  auto forged = browser.script(
      "return fetch('/api/actions', {method: 'POST', headers: {'Content-Type': "
      "'application/json'}, body: JSON.stringify({kind: 'down', team: 'team3'})})"
      ".then(r => r.status)");
  REQUIRE_OK(forged);
  CHECK(*forged == 403);
  httplib::Client http(console.base());
  auto refused = http.Post("/api/actions", R"({"kind":"down","team":"team3"})", "application/json");
  REQUIRE(refused);
  CHECK(refused->status == 401);
  CHECK(console.console().actions().size() == 2);

  // team3's link: team3 only, no actions.
  REQUIRE_OK(browser.go(console.team_url("team3")));
  REQUIRE_OK(browser.wait_for("document.querySelectorAll('tr.vm-row').length === 2"));
  CHECK(count_of(browser, "section.team[data-team='team2']") == 0);
  CHECK(count_of(browser, "button") == 0);
  auto page = browser.source();
  REQUIRE_OK(page);
  CHECK(page->find("team2") == std::string::npos);
}
