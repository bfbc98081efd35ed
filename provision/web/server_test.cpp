// The console over HTTP (cpp-httplib's client) against a classroom on libvirt's test driver:
// who may read and change what. The pages themselves are driven in a real browser by
// tests/console_browser_test.cpp.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

#include <httplib.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "provision/sys/classroom_lock.hpp"
#include "provision/web/server.hpp"
#include "tests/support/console.hpp"
#include "tests/support/labs.hpp"

using namespace labctl;
using namespace std::chrono_literals;

namespace {

// The session cookie a login answers with ("labctl_session=..."), "" when refused.
std::string login(httplib::Client& http, const std::string& token) {
  auto res = http.Get(("/login?token=" + token).c_str());
  if (!res || res->status != 303) {
    return "";
  }
  const std::string set = res->get_header_value("Set-Cookie");
  return set.substr(0, set.find(';'));
}

nlohmann::json get_json(httplib::Client& http, const std::string& path, const std::string& cookie) {
  auto res = http.Get(path.c_str(), {{"Cookie", cookie}});
  REQUIRE(res);
  REQUIRE(res->status == 200);
  return nlohmann::json::parse(res->body);
}

std::string token_of(const std::string& url) {
  return url.substr(url.find("token=") + 6);
}

}  // namespace

TEST_CASE("console over HTTP: tokens, sessions, CSRF, a team's own view", "[libvirt][web]") {
  testing::ConsoleFixture console(
      {testing::console_lab("lctw", "<img src=x onerror=alert(1)> & co"), false});
  httplib::Client http(console.base());
  http.set_connection_timeout(5s);
  http.set_read_timeout(10s);

  SECTION("without a session: the login page, and no data") {
    auto page = http.Get("/");
    REQUIRE(page);
    CHECK(page->status == 200);
    CHECK(page->body.find("id=\"login\"") != std::string::npos);
    CHECK(page->get_header_value("Content-Security-Policy").find("script-src 'self'") !=
          std::string::npos);
    auto data = http.Get("/api/classroom");
    REQUIRE(data);
    CHECK(data->status == 401);
    CHECK(http.Get("/api/events")->status == 401);
    CHECK(http.Get("/api/handout/team3")->status == 401);
    auto bad = http.Get("/login?token=0123");
    REQUIRE(bad);
    CHECK(bad->status == 403);
    CHECK(bad->get_header_value("Set-Cookie").empty());
    auto post = http.Post("/api/actions", R"({"kind":"up","team":"team3"})", "application/json");
    REQUIRE(post);
    CHECK(post->status == 401);
  }
  SECTION("the instructor: every team and VM; actions need the CSRF value") {
    const std::string cookie = login(http, token_of(console.login_url()));
    REQUIRE(cookie.starts_with("labctl_session="));
    auto res = http.Get("/login?token=" + token_of(console.login_url()));
    CHECK(res->get_header_value("Set-Cookie").find("HttpOnly; SameSite=Strict") !=
          std::string::npos);
    const auto doc = get_json(http, "/api/classroom", cookie);
    CHECK(doc["title"] == "<img src=x onerror=alert(1)> & co");  // data; the page shows it as text
    REQUIRE(doc["teams"].size() == 2);
    CHECK(doc["teams"][1]["name"] == "team3");
    CHECK(doc["teams"][1]["vms"].size() == 2);
    CHECK(doc["teams"][1]["vms"][0]["instances"][0]["name"] == "main");
    CHECK(doc["teams"][1]["view"].get<std::string>().starts_with("/login?token="));
    const auto session = get_json(http, "/api/session", cookie);
    CHECK(session["role"] == "instructor");

    const std::string body = R"({"kind":"add","team":"team3","vm":"vm2","version":"6.1.0"})";
    auto forged = http.Post("/api/actions", {{"Cookie", cookie}}, body, "application/json");
    REQUIRE(forged);
    CHECK(forged->status == 403);
    auto wrong = http.Post("/api/actions", {{"Cookie", cookie}, {"X-CSRF-Token", "0000"}}, body,
                           "application/json");
    CHECK(wrong->status == 403);
    CHECK(console.console().actions().empty());  // nothing was started

    const std::string csrf = session["csrf"];
    auto bad_team = http.Post("/api/actions", {{"Cookie", cookie}, {"X-CSRF-Token", csrf}},
                              R"({"kind":"add","team":"team9","vm":"vm2","version":"6.1.0"})",
                              "application/json");
    CHECK(bad_team->status == 400);
    CHECK(bad_team->body.find("no team 'team9'") != std::string::npos);

    auto added = http.Post("/api/actions", {{"Cookie", cookie}, {"X-CSRF-Token", csrf}}, body,
                           "application/json");
    REQUIRE(added);
    CHECK(added->status == 202);
    // Bounded: the action runs on a worker, then the classroom is read again.
    bool listed = false;
    for (int i = 0; i < 100 && !listed; ++i) {
      std::this_thread::sleep_for(100ms);
      const auto now = get_json(http, "/api/classroom", cookie);
      for (const auto& instance : now["teams"][1]["vms"][1]["instances"]) {
        listed = listed || instance["version"] == "6.1.0";
      }
    }
    CHECK(listed);
    const auto actions = console.console().actions();
    REQUIRE(actions.size() == 1);
    CHECK(actions[0].state == "done");
    INFO(actions[0].message);

    auto sheet = http.Get("/api/handout/team3", {{"Cookie", cookie}});
    REQUIRE(sheet);
    CHECK(sheet->status == 200);
    CHECK(sheet->body.find("team3") != std::string::npos);
    auto bundle = http.Get("/api/handout/team3/bundle", {{"Cookie", cookie}});
    REQUIRE(bundle);
    CHECK(bundle->status == 200);
    CHECK(bundle->body.substr(0, 2) == "\x1f\x8b");  // gzip
  }
  SECTION("up and down of a team, as the CLI runs them, one action at a time") {
    const std::string cookie = login(http, token_of(console.login_url()));
    const std::string csrf = get_json(http, "/api/session", cookie)["csrf"];
    const httplib::Headers headers = {{"Cookie", cookie}, {"X-CSRF-Token", csrf}};
    const auto run = [&](const std::string& kind) {
      const auto before = console.console().actions().size();
      auto res =
          http.Post("/api/actions", headers,
                    nlohmann::json{{"kind", kind}, {"team", "team3"}}.dump(), "application/json");
      REQUIRE(res);
      REQUIRE(res->status == 202);
      bool ended = false;
      for (int i = 0; i < 300 && !ended; ++i) {
        std::this_thread::sleep_for(100ms);
        const auto actions = console.console().actions();
        ended = actions.size() > before && actions.back().state != "running";
      }
      REQUIRE(ended);
      return console.console().actions().back();
    };
    // The test driver takes no volume upload: `up` gets as far as the base disk, and its
    // failure is the action's, with libvirt's words.
    const web::ActionRecord up = run("up");
    CHECK(up.state == "failed");
    CHECK(up.message.find("virStorageVolUpload") != std::string::npos);
    // Its progress went to the event stream, under the action's number.
    bool progress = false;
    for (const web::Message& m : console.hub().after(0, 0ms)) {
      progress = progress || (m.event == "progress" && m.data["action"] == up.id &&
                              m.data["subject"].get<std::string>().starts_with("create"));
    }
    CHECK(progress);
    const web::ActionRecord down = run("down");
    INFO(down.message);
    CHECK(down.state == "done");
  }
  SECTION("an action waits for the classroom's lock held by another command, and says so") {
    const std::string cookie = login(http, token_of(console.login_url()));
    const std::string csrf = get_json(http, "/api/session", cookie)["csrf"];
    auto dir = sys::StateDir::open("lctw");
    REQUIRE(dir.ok());
    std::optional<sys::ClassroomLock> held;
    {
      auto lock = sys::ClassroomLock::acquire(dir->dir(), "labctl up team2", sys::LockWait::fail);
      REQUIRE(lock.ok());
      held.emplace(std::move(*lock));
    }
    CHECK(get_json(http, "/api/classroom", cookie)["lock"].get<std::string>().find(
              "(labctl up team2)") != std::string::npos);
    auto res = http.Post("/api/actions", {{"Cookie", cookie}, {"X-CSRF-Token", csrf}},
                         R"({"kind":"remove","team":"team3","vm":"vm2","name":"old"})",
                         "application/json");
    REQUIRE(res);
    REQUIRE(res->status == 202);
    bool told = false;
    for (int i = 0; i < 100 && !told; ++i) {
      std::this_thread::sleep_for(100ms);
      for (const web::Message& m : console.hub().after(0, 0ms)) {
        told =
            told ||
            (m.event == "progress" && m.data["subject"] == "waiting for the classroom lock" &&
             m.data["message"].get<std::string>().find("(labctl up team2)") != std::string::npos);
      }
    }
    CHECK(told);
    CHECK(console.console().actions().back().state == "running");
    held.reset();
    bool done = false;
    for (int i = 0; i < 100 && !done; ++i) {
      std::this_thread::sleep_for(100ms);
      done = console.console().actions().back().state != "running";
    }
    CHECK(done);
    INFO(console.console().actions().back().message);
    CHECK(console.console().actions().back().state == "done");
  }
  SECTION("a classroom state that cannot be read: the page says why, the last probe stays") {
    const std::string cookie = login(http, token_of(console.login_url()));
    const auto state = console.state_root() / "lctw" / "state.json";
    std::filesystem::create_directories(state.parent_path());
    std::ofstream(state) << R"({"placement": )";
    console.console().refresh();
    nlohmann::json doc = nlohmann::json::object();
    for (int i = 0; i < 100 && doc.value("problem", "").empty(); ++i) {
      std::this_thread::sleep_for(50ms);
      doc = get_json(http, "/api/classroom", cookie);
    }
    CHECK(doc["problem"].get<std::string>().find(state.string()) != std::string::npos);
    CHECK(doc["teams"][1]["vms"].size() == 2);
    CHECK(doc["teams"][1]["vms"][0]["instances"][0]["name"] == "main");
    std::filesystem::remove(state);
    console.console().refresh();
    for (int i = 0; i < 100 && !doc.value("problem", "").empty(); ++i) {
      std::this_thread::sleep_for(50ms);
      doc = get_json(http, "/api/classroom", cookie);
    }
    CHECK(doc["problem"] == "");
  }
  SECTION("a team's view: only its team, and it changes nothing") {
    const std::string cookie = login(http, token_of(console.team_url("team3")));
    REQUIRE_FALSE(cookie.empty());
    const auto doc = get_json(http, "/api/classroom", cookie);
    REQUIRE(doc["teams"].size() == 1);
    CHECK(doc["teams"][0]["name"] == "team3");
    CHECK(doc.dump().find("team2") == std::string::npos);
    CHECK_FALSE(doc.contains("actions"));
    const auto session = get_json(http, "/api/session", cookie);
    auto res = http.Post("/api/actions",
                         {{"Cookie", cookie}, {"X-CSRF-Token", session["csrf"].get<std::string>()}},
                         R"({"kind":"down","team":"team3"})", "application/json");
    REQUIRE(res);
    CHECK(res->status == 403);
    CHECK(http.Get("/api/handout/team3", {{"Cookie", cookie}})->status == 403);
  }
}

TEST_CASE("console over HTTPS: the certificate given, a Secure cookie", "[libvirt][web]") {
  testing::ScratchDir scratch("lct-web-tls");
  const auto cert = scratch.path() / "cert.pem";
  const auto key = scratch.path() / "key.pem";
  const std::string make =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -keyout " +
      key.string() + " -out " + cert.string() + " 2>/dev/null";
  REQUIRE(std::system(make.c_str()) == 0);
  web::EventHub hub;
  testing::ConsoleFixture console({testing::console_lab("lcts", "tls"), false});
  web::Server server(console.console(), console.access(), hub);
  auto port = server.bind({"127.0.0.1", 0, cert.string(), key.string()});
  REQUIRE(port.ok());
  CHECK(server.base_url().starts_with("https://127.0.0.1:"));
  std::thread serving([&] { server.run(); });
  httplib::SSLClient https("127.0.0.1", *port);
  https.enable_server_certificate_verification(true);
  https.set_ca_cert_path(cert.string().c_str());
  https.set_connection_timeout(5s);
  auto res = https.Get(("/login?token=" + token_of(console.login_url())).c_str());
  server.stop();
  serving.join();
  REQUIRE(res);
  CHECK(res->status == 303);
  CHECK(res->get_header_value("Set-Cookie").find("; Secure") != std::string::npos);

  web::Server broken(console.console(), console.access(), hub);
  auto refused = broken.bind({"127.0.0.1", 0, cert.string(), cert.string()});
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message.find("not a usable certificate and key") != std::string::npos);
}

TEST_CASE("console --listen parsing", "[unit][web]") {
  auto v4 = web::parse_listen("0.0.0.0:8800");
  REQUIRE(v4.ok());
  CHECK(v4->address == "0.0.0.0");
  CHECK(v4->port == 8800);
  auto v6 = web::parse_listen("[::1]:0");
  REQUIRE(v6.ok());
  CHECK(v6->address == "::1");
  CHECK(v6->port == 0);
  CHECK_FALSE(web::parse_listen("8800").ok());
  CHECK_FALSE(web::parse_listen("host:99999").ok());
  CHECK_FALSE(web::parse_listen("host:").ok());
}
