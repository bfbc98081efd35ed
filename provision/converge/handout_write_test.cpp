#include "provision/converge/handout_write.hpp"

#include <algorithm>

#include <catch2/catch.hpp>

#include "tests/support/env.hpp"
#include "tests/support/golden.hpp"
#include "tests/support/labs.hpp"

using namespace labctl;
namespace fs = std::filesystem;

namespace {

fs::perms mode_of(const fs::path& path) {
  return fs::status(path).permissions();
}

std::vector<std::string> teams_of(const converge::Handout& handout) {
  std::vector<std::string> out;
  for (const converge::HandoutTeam& team : handout.teams) {
    out.push_back(team.name);
  }
  return out;
}

}  // namespace

TEST_CASE("a hand-out is read from the classroom's state", "[unit][cli]") {
  testing::ScratchDir scratch("lct-handout");
  const fs::path root = scratch.path() / "state";
  const testing::ScopedEnv env("LABCTL_STATE_DIR", root.string());
  const model::Lab lab = testing::small_lab("lct", 3, 1);

  SECTION("the sheet alone: read only, nothing made") {
    auto prepared = converge::prepare_handout(lab, {{"team3", "team1"}, false}, false, false);
    REQUIRE(prepared.ok());
    CHECK(teams_of(prepared->handout) == std::vector<std::string>{"team1", "team3"});
    CHECK_FALSE(prepared->handout.with_secrets);
    CHECK_FALSE(fs::exists(root));
  }
  SECTION("with the secrets: every covered VM's DB passwords, made now") {
    auto prepared = converge::prepare_handout(lab, {{}, true}, true, false);
    REQUIRE(prepared.ok());
    CHECK(teams_of(prepared->handout) == std::vector<std::string>{"team1", "team2", "team3"});
    CHECK(prepared->handout.with_secrets);
    CHECK_FALSE(prepared->handout.teams[2].vms[0].instances[0].db_password.empty());
    CHECK(fs::is_directory(root / "lct"));
  }
}

TEST_CASE("each team's hand-out is written as a directory or an archive", "[unit][cli]") {
  testing::ScratchDir scratch("lct-handout-out");
  const testing::ScopedEnv env("LABCTL_STATE_DIR", (scratch.path() / "state").string());
  const model::Lab lab = testing::small_lab("lct", 2, 1);
  const fs::path out = scratch.path() / "out";
  auto prepared = converge::prepare_handout(lab, {{}, true}, false, true);
  REQUIRE(prepared.ok());

  SECTION("a directory per team, 0700, its key 0600") {
    auto written =
        converge::write_team_handouts(lab, *prepared, converge::HandoutFormat::html, out, false);
    REQUIRE(written.ok());
    REQUIRE(written->size() == 2);
    CHECK((*written)[0].team == "team1");
    CHECK((*written)[0].path == out / "lct-team1");
    CHECK((*written)[1].path == out / "lct-team2");
    const fs::path dir = (*written)[1].path;
    CHECK(mode_of(dir) == fs::perms::owner_all);
    CHECK(fs::exists(dir / "handout.html"));
    CHECK(mode_of(dir / "team2.key") == (fs::perms::owner_read | fs::perms::owner_write));
    CHECK(fs::exists(dir / "ssh_config"));
    CHECK(fs::exists(dir / "known_hosts"));
  }
  SECTION("one .tar.gz per team, 0600, nothing else left") {
    auto written =
        converge::write_team_handouts(lab, *prepared, converge::HandoutFormat::markdown, out, true);
    REQUIRE(written.ok());
    REQUIRE(written->size() == 2);
    CHECK((*written)[0].path == out / "lct-team1.tar.gz");
    CHECK(mode_of((*written)[0].path) == (fs::perms::owner_read | fs::perms::owner_write));
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(out)) {
      files.push_back(entry.path().filename());
    }
    std::sort(files.begin(), files.end());
    CHECK(files == std::vector<fs::path>{"lct-team1.tar.gz", "lct-team2.tar.gz"});
  }
}
