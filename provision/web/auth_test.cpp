#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "provision/web/auth.hpp"
#include "tests/support/golden.hpp"

using namespace labctl;

TEST_CASE("console tokens: made once 0600, read back; each opens its own view", "[unit][web]") {
  testing::ScratchDir scratch("lct-web-auth");
  auto state = sys::StateDir::open_at(scratch.path(), "cd26");
  REQUIRE(state.ok());
  auto first = web::Access::open(*state, {"team2", "team3"});
  REQUIRE(first.ok());
  CHECK(first->made_now());
  CHECK(first->instructor_token().size() == 64);
  struct stat st {};
  REQUIRE(::stat((state->dir() / "secrets" / "console-token").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  auto again = web::Access::open(*state, {"team2", "team3"});
  REQUIRE(again.ok());
  CHECK_FALSE(again->made_now());
  CHECK(again->instructor_token() == first->instructor_token());
  CHECK(again->team_token("team3") == first->team_token("team3"));
  CHECK(again->team_token("team2") != again->team_token("team3"));
  CHECK(again->team_token("team9").empty());

  web::Access& access = *again;
  CHECK_FALSE(access.login("").has_value());
  CHECK_FALSE(access.login("nope").has_value());
  auto instructor = access.login(access.instructor_token());
  REQUIRE(instructor.has_value());
  const web::Viewer i = access.viewer("a=1; labctl_session=" + *instructor);
  CHECK(i.role == web::Role::instructor);
  CHECK(i.csrf.size() == 32);
  auto team = access.login(access.team_token("team3"));
  REQUIRE(team.has_value());
  const web::Viewer t = access.viewer("labctl_session=" + *team);
  CHECK(t.role == web::Role::team);
  CHECK(t.team == "team3");
  CHECK(t.csrf != i.csrf);
  CHECK(access.viewer("labctl_session=forged").role == web::Role::none);
  CHECK(access.viewer("").role == web::Role::none);
  access.logout("labctl_session=" + *team);
  CHECK(access.viewer("labctl_session=" + *team).role == web::Role::none);
}

TEST_CASE("console cookies and secrets compare", "[unit][web]") {
  CHECK(web::cookie_value("a=1; labctl_session=xyz; b=2", "labctl_session") == "xyz");
  CHECK(web::cookie_value("labctl_session_old=1", "labctl_session").empty());
  CHECK(web::cookie_value("", "labctl_session").empty());
  CHECK(web::same_secret("abc", "abc"));
  CHECK_FALSE(web::same_secret("abc", "abd"));
  CHECK_FALSE(web::same_secret("abc", "abcd"));
  CHECK_FALSE(web::same_secret("", "a"));
  const std::string cookie = web::session_cookie("s1", true);
  CHECK(cookie == "labctl_session=s1; Path=/; HttpOnly; SameSite=Strict; Secure");
  CHECK(web::session_cookie("s1", false).find("Secure") == std::string::npos);
}
