#include "hypervisors/hyperv/session.hpp"

#include <set>

#include <catch2/catch.hpp>

#include "hypervisors/hyperv/render.hpp"
#include "hypervisors/hyperv/script.hpp"
#include "tests/support/fake_powershell.hpp"
#include "tests/support/golden.hpp"

namespace hy = labctl::hv::hyperv;
using labctl::ErrorCause;
using labctl::testing::FakePowerShell;
using Calls = std::vector<std::string>;

namespace {

const std::string k_nonce = "0123456789abcdef0123456789abcdef";
const std::string k_end = "labctl-end-" + k_nonce;

std::string script(const std::string& verb, const std::string& subject) {
  return "# labctl " + verb + " " + subject + "\nWrite-Output 'x'\n";
}

}  // namespace

TEST_CASE("the session loop PowerShell runs", "[golden]") {
  auto loop = hy::render_session_loop(k_nonce);
  REQUIRE(loop.ok());
  labctl::testing::check_golden("hyperv/session.ps1", *loop);
  CHECK_FALSE(hy::render_session_loop("'; Remove-Item C:\\ -Recurse #").ok());
  const std::string nonce = hy::session_nonce();
  CHECK(nonce.size() == 32);
  CHECK(nonce.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(hy::session_nonce() != nonce);
}

TEST_CASE("the sentinel closes a stream only as a whole line of its own", "[unit]") {
  SECTION("found: the text before it, without the newline the loop wrote") {
    auto found = hy::find_sentinel("[]\r\n\r\n" + k_end + " 3\r\n", k_end, true);
    REQUIRE(found.has_value());
    CHECK(found->text_end == 4);
    CHECK(found->code == 3);
    CHECK(hy::find_sentinel("\r\n" + k_end + "\r\n", k_end, false)->text_end == 0);
  }
  SECTION("not found: not yet whole, not at a line's start, another nonce, a bad code") {
    CHECK_FALSE(hy::find_sentinel("\r\n" + k_end + " 0", k_end, true));
    CHECK_FALSE(hy::find_sentinel("say " + k_end + " 0\r\n", k_end, true));
    CHECK_FALSE(hy::find_sentinel("\nlabctl-end-ffff 0\r\n", k_end, true));
    CHECK_FALSE(hy::find_sentinel("\n" + k_end + "ff 0\r\n", k_end, true));
    CHECK_FALSE(hy::find_sentinel("\n" + k_end + " 0 and more\r\n", k_end, true));
    CHECK_FALSE(hy::find_sentinel("\n" + k_end + " x\r\n", k_end, false));
  }
}

TEST_CASE("one PowerShell process runs every script of a run", "[unit]") {
  FakePowerShell host;
  hy::SessionOptions options;
  options.nonce = k_nonce;
  options.timeout = std::chrono::milliseconds(200);
  hy::SessionPowerShellRunner runner(host.starter(), options);

  SECTION("many scripts, one process, each answer its own") {
    for (const char* subject : {"a", "b", "c"}) {
      host.scripted["echo " + std::string(subject)] = {0, std::string(subject) + "\r\n", ""};
      auto result = runner.run(script("echo", subject));
      REQUIRE(result.ok());
      CHECK(result->out == std::string(subject) + "\r\n");
    }
    CHECK(host.processes == 1);
    CHECK(runner.processes_started() == 1);
  }
  SECTION("a script's output that looks like a sentinel does not end its frame") {
    const std::string tricky =
        "labctl-end-ffffffffffffffffffffffffffffffff 0\r\n"
        "echo " +
        k_end + " 0\r\n" + k_end +
        "0\r\n"
        "no newline at the end";
    host.scripted["echo tricky"] = {0, tricky, "labctl-end-\r\n"};
    auto result = runner.run(script("echo", "tricky"));
    REQUIRE(result.ok());
    CHECK(result->out == tricky);
    CHECK(result->err == "labctl-end-\r\n");
    host.scripted["echo next"] = {0, "next", ""};
    CHECK(runner.run(script("echo", "next"))->out == "next");
    CHECK(host.processes == 1);
  }
  SECTION("a failing script: its labctl-error line, and the session goes on") {
    host.scripted["fail x"] = {1, "", "#< CLIXML\r\nlabctl-error: Get-VM: no such VM\r\n"};
    auto failed = runner.run(script("fail", "x"));
    REQUIRE_FALSE(failed.ok());
    CHECK(failed.error().message == "hyperv fail x: Get-VM: no such VM");
    CHECK(failed.error().cause == ErrorCause::other);
    host.scripted["find x"] = {
        1, "", "labctl-error-category: ObjectNotFound\r\nlabctl-error: Get-VM: no such VM\r\n"};
    auto missing = runner.run(script("find", "x"));
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().message == "hyperv find x: Get-VM: no such VM");
    CHECK(missing.error().cause == ErrorCause::not_found);
    host.scripted["echo y"] = {0, "y", ""};
    CHECK(runner.run(script("echo", "y")).ok());
    CHECK(host.processes == 1);
  }
  SECTION("a script past its timeout: an Error, the process killed, the next starts anew") {
    host.hang_on = "wait forever";
    auto late = runner.run(script("wait", "forever"));
    REQUIRE_FALSE(late.ok());
    CHECK(late.error().message ==
          "hyperv wait forever: no answer within 0.2 s: PowerShell was stopped (the next script "
          "starts a new one)");
    host.scripted["echo z"] = {0, "z", ""};
    CHECK(runner.run(script("echo", "z"))->out == "z");
    CHECK(host.processes == 2);
  }
  SECTION("PowerShell ending mid-script: an Error, and the next script starts it again") {
    host.die_on = "crash now";
    auto died = runner.run(script("crash", "now"));
    REQUIRE_FALSE(died.ok());
    CHECK_THAT(died.error().message, Catch::StartsWith("hyperv crash now: PowerShell ended"));
    host.scripted["echo w"] = {0, "w", ""};
    CHECK(runner.run(script("echo", "w")).ok());
    CHECK(host.processes == 2);
  }
  CHECK(host.calls.size() >= 1);
}

namespace {

// The session loop's protocol in a POSIX shell: the same stdin lines and sentinels, over
// real pipes to a real child. Each answer is the script's header and the shell's pid.
constexpr const char* k_loop_in_sh = R"sh(nonce=$1
while IFS= read -r line; do
  script=$(printf '%s' "$line" | base64 -d | iconv -f UTF-16LE -t UTF-8)
  case $script in *Start-Sleep*) sleep 10 ;; esac
  printf '%s pid=%s\r\n' "$(printf '%s\n' "$script" | head -n 1)" "$$"
  printf '\r\nlabctl-end-%s 0\r\n' "$nonce"
  printf '\r\nlabctl-end-%s\r\n' "$nonce" >&2
done)sh";

}  // namespace

TEST_CASE("the session over a real child process (a shell speaking the loop's protocol)",
          "[unit]") {
  int started = 0;
  auto start = [&started](const std::vector<std::string>& argv) {
    ++started;
    const std::string nonce = hy::script_subject(labctl::testing::decode_command(argv.back()));
    return labctl::sys::start_live_process({"sh", "-c", k_loop_in_sh, "sh", nonce});
  };
  // upload-volume has its own, long, timeout: the answered scripts use it, so that a busy
  // machine does not fail them; the one that hangs has the short one.
  hy::SessionOptions options;
  options.timeout = std::chrono::seconds(1);
  options.upload_timeout = std::chrono::seconds(60);
  hy::SessionPowerShellRunner runner(start, options);
  std::set<std::string> pids;
  for (const char* subject : {"a", "b", "c"}) {
    auto result = runner.run(script("upload-volume", subject));
    REQUIRE(result.ok());
    CHECK_THAT(result->out,
               Catch::StartsWith("# labctl upload-volume " + std::string(subject) + " pid="));
    pids.insert(result->out.substr(result->out.find("pid=")));
  }
  CHECK(pids.size() == 1);
  CHECK(started == 1);
  auto late = runner.run("# labctl wait long\nStart-Sleep 60\n");
  REQUIRE_FALSE(late.ok());
  CHECK_THAT(late.error().message, Catch::Contains("no answer within 1 s"));
  auto again = runner.run(script("upload-volume", "d"));
  REQUIRE(again.ok());
  CHECK(pids.count(again->out.substr(again->out.find("pid="))) == 0);
  CHECK(started == 2);
}
