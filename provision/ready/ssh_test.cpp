#include "provision/ready/ssh.hpp"

#include <catch2/catch.hpp>

#include "tests/support/sshd.hpp"

using namespace labctl;

TEST_CASE("SshSession execs and copies files against a real sshd with a pinned host key",
          "[unit][ssh]") {
  if (const std::string missing = testing::TestSshd::missing(); !missing.empty()) {
    WARN("SKIPPED: " << missing);
    return;
  }
  testing::ScratchDir dir("lct-ssh");
  testing::TestSshd sshd(dir.path());
  const std::string why = sshd.start();
  INFO(why);
  REQUIRE(why.empty());
  ready::SshTarget target{
      "127.0.0.1", sshd.port(), "root", sshd.user_key(), sshd.host_public_key(), 5};
  SECTION("exec returns output and exit code") {
    auto session = ready::SshSession::connect(target);
    REQUIRE(session.ok());
    auto r = (*session)->exec("echo hello; echo oops >&2; exit 4");
    REQUIRE(r.ok());
    CHECK(r->out == "hello\n");
    CHECK(r->err == "oops\n");
    CHECK(r->exit_code == 4);
  }
  SECTION("put_file writes content and mode") {
    auto session = ready::SshSession::connect(target);
    REQUIRE(session.ok());
    const std::string path = (dir.path() / "copied.txt").string();
    const std::string content(100000, 'z');
    REQUIRE((*session)->put_file(path, content, 0600).ok());
    CHECK(testing::read_file(path) == content);
    CHECK((std::filesystem::status(path).permissions() & std::filesystem::perms::all) ==
          (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
  }
  SECTION("another host key is refused") {
    target.host_public_key =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ3q6ZzXbQ3cN7p8pJxBv1mVw1M3m9k3yJf0aQ4xX0xX other";
    auto session = ready::SshSession::connect(target);
    REQUIRE_FALSE(session.ok());
    CHECK_THAT(session.error().message,
               Catch::Contains("host key does not match the key labctl pinned"));
  }
}
