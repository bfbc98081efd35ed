#include "provision/sys/state.hpp"

#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include <catch2/catch.hpp>

#include "provision/sys/classroom_lock.hpp"
#include "tests/support/env.hpp"
#include "tests/support/golden.hpp"

using labctl::sys::ClassroomState;
using labctl::sys::StateDir;
namespace fs = std::filesystem;

namespace {

unsigned mode_of(const fs::path& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("the state root follows LABCTL_STATE_DIR, XDG_STATE_HOME, then HOME", "[unit]") {
  labctl::testing::ScopedEnv home("HOME", "/home/teacher");
  SECTION("LABCTL_STATE_DIR wins") {
    labctl::testing::ScopedEnv a("LABCTL_STATE_DIR", "/srv/labctl");
    labctl::testing::ScopedEnv b("XDG_STATE_HOME", "/xdg");
    CHECK(labctl::sys::default_state_root().value() == "/srv/labctl");
  }
  SECTION("then XDG_STATE_HOME, when absolute") {
    labctl::testing::ScopedEnv a("LABCTL_STATE_DIR", std::nullopt);
    labctl::testing::ScopedEnv b("XDG_STATE_HOME", "/xdg");
    CHECK(labctl::sys::default_state_root().value() == "/xdg/labctl");
  }
  SECTION("then ~/.local/state (a relative XDG_STATE_HOME is ignored)") {
    labctl::testing::ScopedEnv a("LABCTL_STATE_DIR", std::nullopt);
    labctl::testing::ScopedEnv b("XDG_STATE_HOME", "relative");
    CHECK(labctl::sys::default_state_root().value() == "/home/teacher/.local/state/labctl");
  }
}

TEST_CASE("the classroom state directory keeps keys and secrets private", "[unit]") {
  labctl::testing::ScratchDir scratch("lct-seeds-state");
  labctl::testing::ScopedEnv root("LABCTL_STATE_DIR", scratch.path().string());
  auto state = StateDir::open("cd26");
  REQUIRE(state.ok());
  CHECK(state->dir() == scratch.path() / "cd26");
  CHECK(mode_of(state->dir()) == 0700);

  SECTION("the classroom key pair is generated once") {
    auto first = state->classroom_key();
    REQUIRE(first.ok());
    auto second = StateDir::open("cd26")->classroom_key();
    REQUIRE(second.ok());
    CHECK(second->private_openssh == first->private_openssh);
    CHECK(second->public_line == first->public_line);
    CHECK(first->public_line.substr(first->public_line.rfind(' ')) == " labctl-cd26");
    CHECK(mode_of(state->private_key_path()) == 0600);
    CHECK(labctl::testing::read_file(state->dir() / "id_ed25519.pub") == first->public_line + "\n");
  }
  SECTION("concurrent callers agree on one key") {
    std::vector<std::string> seen(4);
    std::vector<std::thread> workers;
    for (std::size_t i = 0; i < seen.size(); ++i) {
      workers.emplace_back([&, i] { seen[i] = state->host_key("cd26-team1-vm1")->public_line; });
    }
    for (auto& w : workers) {
      w.join();
    }
    CHECK(seen == std::vector<std::string>(4, seen[0]));
  }
  SECTION("host keys are per VM, pinned and private") {
    auto vm1 = state->host_key("cd26-team1-vm1");
    auto vm2 = state->host_key("cd26-team1-vm2");
    REQUIRE(vm1.ok());
    REQUIRE(vm2.ok());
    CHECK(vm1->public_line != vm2->public_line);
    CHECK(state->host_key("cd26-team1-vm1")->private_openssh == vm1->private_openssh);
    CHECK(mode_of(state->dir() / "hostkeys") == 0700);
    CHECK(mode_of(state->dir() / "hostkeys" / "cd26-team1-vm1.key") == 0600);
    CHECK(mode_of(state->dir() / "hostkeys" / "cd26-team1-vm1.pub") == 0600);
  }
  SECTION("each team has its own private key pair, made once, apart from the classroom's") {
    auto team1 = state->team_key("team1");
    auto team2 = state->team_key("team2");
    REQUIRE(team1.ok());
    REQUIRE(team2.ok());
    CHECK(team1->public_line != team2->public_line);
    CHECK(team1->public_line != state->classroom_key()->public_line);
    CHECK(StateDir::open("cd26")->team_key("team1")->private_openssh == team1->private_openssh);
    CHECK(team1->public_line.substr(team1->public_line.rfind(' ')) == " labctl-cd26-team1");
    CHECK(mode_of(state->dir() / "teamkeys") == 0700);
    CHECK(mode_of(state->dir() / "teamkeys" / "team1.key") == 0600);
    CHECK(mode_of(state->dir() / "teamkeys" / "team1.pub") == 0600);
    CHECK_FALSE(state->team_key("../team1").ok());
  }
  SECTION("known_hosts has one line per address with the pinned key") {
    REQUIRE(state
                ->write_known_hosts(
                    {{"10.61.1.11", "cd26-team1-vm1"}, {"10.61.1.12", "cd26-team1-vm2"}})
                .ok());
    auto blob = [&](const std::string& vm) {
      const std::string line = state->host_key(vm)->public_line;
      return line.substr(0, line.rfind(' '));
    };
    CHECK(labctl::testing::read_file(state->known_hosts_path()) ==
          "10.61.1.11 " + blob("cd26-team1-vm1") + "\n10.61.1.12 " + blob("cd26-team1-vm2") + "\n");
    CHECK(mode_of(state->known_hosts_path()) == 0600);
    REQUIRE(state->write_known_hosts({{"10.61.1.12", "cd26-team1-vm2"}}).ok());
    CHECK(labctl::testing::read_file(state->known_hosts_path()) ==
          "10.61.1.12 " + blob("cd26-team1-vm2") + "\n");
  }
  SECTION("secrets round-trip with mode 0600 and names cannot escape") {
    REQUIRE(state->write_secret("team1-db-password", "s3cret").ok());
    CHECK(state->read_secret("team1-db-password").value() == "s3cret");
    CHECK(mode_of(state->dir() / "secrets") == 0700);
    CHECK(mode_of(state->dir() / "secrets" / "team1-db-password") == 0600);
    CHECK_FALSE(state->write_secret("../escape", "x").ok());
    CHECK_FALSE(state->read_secret("missing").ok());
    REQUIRE(state->remove_secret("team1-db-password").ok());
    CHECK_FALSE(fs::exists(state->dir() / "secrets" / "team1-db-password"));
    CHECK(state->remove_secret("team1-db-password").ok());
    CHECK_FALSE(state->remove_secret("../escape").ok());
  }
  SECTION("state.json is read, updated and written whole") {
    CHECK(to_json(state->read_state().value()) == to_json(ClassroomState{}));
    REQUIRE(
        state->update_state([](ClassroomState& s) { s.placement["team1"] = "test:///a"; }).ok());
    CHECK(state->read_state().value().placement.at("team1") == "test:///a");
    CHECK(mode_of(state->state_path()) == 0600);
    std::ofstream(state->state_path()) << "{broken";
    CHECK_FALSE(state->read_state().ok());
  }
  SECTION("no temp file is left behind") {
    REQUIRE(state->classroom_key().ok());
    REQUIRE(state->update_state([](ClassroomState& s) { s.standin = true; }).ok());
    for (const auto& entry : fs::recursive_directory_iterator(state->dir())) {
      CHECK(entry.path().filename().string().find(".tmp.") == std::string::npos);
    }
  }
  SECTION("serial logs and remove_all") {
    auto log = state->serial_log_path("cd26-team1-vm1");
    REQUIRE(log.ok());
    CHECK(*log == state->dir() / "logs" / "cd26-team1-vm1.serial.log");
    REQUIRE(state->remove_all().ok());
    CHECK_FALSE(fs::exists(state->dir()));
    CHECK(fs::exists(scratch.path()));
  }
}

TEST_CASE("a state directory opened read-only creates and writes nothing", "[unit]") {
  labctl::testing::ScratchDir scratch("lct-state-ro");
  auto state = StateDir::open_read_only_at(scratch.path(), "cd26");
  REQUIRE(state.ok());
  SECTION("an absent directory reads as empty and stays absent") {
    auto doc = state->read_state();
    REQUIRE(doc.ok());
    CHECK(to_json(*doc) == to_json(ClassroomState{}));
    CHECK_FALSE(state->classroom_key().ok());
    CHECK_FALSE(state->host_key("cd26-team1-vm1").ok());
    CHECK_FALSE(state->team_key("team1").ok());
    CHECK_FALSE(state->serial_log_path("cd26-team1-vm1").ok());
    CHECK_FALSE(state->update_state([](ClassroomState& s) { s.standin = true; }).ok());
    CHECK_FALSE(state->write_secret("s", "x").ok());
    CHECK(fs::is_empty(scratch.path()));
  }
  SECTION("what `up` made is read") {
    auto writer = StateDir::open_at(scratch.path(), "cd26");
    REQUIRE(writer.ok());
    auto key = writer->classroom_key();
    REQUIRE(key.ok());
    auto read = state->classroom_key();
    REQUIRE(read.ok());
    CHECK(read->public_line == key->public_line);
    CHECK_FALSE(state->write_known_hosts({}).ok());
  }
}

TEST_CASE("a directory that holds only its lock file holds no state, and goes", "[unit]") {
  labctl::testing::ScratchDir scratch("lct-lock-only");
  labctl::testing::ScopedEnv root("LABCTL_STATE_DIR", scratch.path().string());
  auto state = StateDir::open("cd26");
  REQUIRE(state.ok());
  std::ofstream(state->lock_path()) << "{}";
  CHECK_FALSE(state->holds_state());
  SECTION("with something else in it: kept") {
    std::ofstream(state->dir() / "state.json") << "{}";
    CHECK(state->holds_state());
    state->forget_if_lock_only();
    CHECK(fs::exists(state->lock_path()));
  }
  SECTION("the lock file alone: the directory goes") {
    state->forget_if_lock_only();
    CHECK_FALSE(fs::exists(state->dir()));
    state->forget_if_lock_only();  // gone already: nothing to do
  }
}

TEST_CASE("down's removal lists every path and keeps the dumps", "[unit]") {
  labctl::testing::ScratchDir scratch("lct-state-rm");
  auto state = StateDir::open_at(scratch.path(), "cd26");
  REQUIRE(state.ok());
  const fs::path dir = state->dir();
  REQUIRE(state->update_state([](ClassroomState& s) { s.standin = true; }).ok());
  REQUIRE(state->write_secret("pw", "x").ok());
  SECTION("without dumps everything goes, the directory too") {
    const auto removal = state->removal(true);
    CHECK(removal.remove ==
          std::vector<fs::path>{dir, dir / "secrets", dir / "secrets/pw", dir / "state.json"});
    CHECK(removal.keep.empty());
    REQUIRE(state->remove_paths(removal.remove).ok());
    CHECK_FALSE(fs::exists(dir));
  }
  SECTION("dumps are kept with the directory that holds them, unless purged") {
    fs::create_directories(dir / "dumps");
    std::ofstream(dir / "dumps/vm1-main.sql") << "dump";
    const auto kept = state->removal(true);
    CHECK(kept.remove ==
          std::vector<fs::path>{dir / "secrets", dir / "secrets/pw", dir / "state.json"});
    CHECK(kept.keep == std::vector<fs::path>{dir, dir / "dumps", dir / "dumps/vm1-main.sql"});
    CHECK(state->removal(false).remove.size() == 6);
    REQUIRE(state->remove_paths(kept.remove).ok());
    CHECK(fs::exists(dir / "dumps/vm1-main.sql"));
    CHECK_FALSE(fs::exists(dir / "state.json"));
  }
  SECTION("the lock file is not listed, and goes too; its holder keeps the lock till the end") {
    auto lock =
        labctl::sys::ClassroomLock::acquire(dir, "labctl down --all", labctl::sys::LockWait::fail);
    REQUIRE(lock.ok());
    const auto removal = state->removal(true);
    CHECK(removal.remove ==
          std::vector<fs::path>{dir, dir / "secrets", dir / "secrets/pw", dir / "state.json"});
    SECTION("with the directory") {
      REQUIRE(state->remove_paths(removal.remove).ok());
      CHECK_FALSE(fs::exists(dir));
    }
    SECTION("or alone, when dumps keep the directory") {
      fs::create_directories(dir / "dumps");
      std::ofstream(dir / "dumps/vm1-main.sql") << "dump";
      REQUIRE(state->remove_paths(state->removal(true).remove).ok());
      CHECK_FALSE(fs::exists(dir / "lock"));
      CHECK(fs::exists(dir / "dumps/vm1-main.sql"));
    }
  }
  SECTION("a file that appeared after the listing keeps its directory, with an error") {
    const auto removal = state->removal(true);
    std::ofstream(dir / "secrets/late") << "x";
    CHECK_FALSE(state->remove_paths(removal.remove).ok());
    CHECK(fs::exists(dir / "secrets/late"));
  }
}

TEST_CASE("state.json that cannot be read is an error, and is left as it is", "[unit]") {
  labctl::testing::ScratchDir scratch("lct-state-bad");
  auto state = StateDir::open_at(scratch.path(), "cd26");
  REQUIRE(state.ok());
  const std::string path = state->state_path().string();
  auto refused = [&](const std::string& text, const std::string& why) {
    std::ofstream(state->state_path()) << text;
    auto read = state->read_state();
    REQUIRE_FALSE(read.ok());
    CHECK(read.error().message.starts_with(path + ": "));
    CHECK(read.error().message.find(why) != std::string::npos);
    CHECK_FALSE(state->update_state([](ClassroomState& s) { s.standin = true; }).ok());
    CHECK(labctl::testing::read_file(state->state_path()) == text);
  };
  SECTION("not JSON") {
    refused(R"({"placement": {"red": )", "not valid JSON");
  }
  SECTION("a key of another type") {
    refused(R"({"placement": ["test:///default"]})", "not a classroom state labctl can read");
  }
  SECTION("a newer labctl's") {
    refused(R"({"version": 2, "placement": {}})", "written by a newer labctl (state version 2");
  }
}

TEST_CASE("state.json is updated whole: temp file and rename, one writer at a time", "[unit]") {
  labctl::testing::ScratchDir scratch("lct-state-update");
  auto state = StateDir::open_at(scratch.path(), "cd26");
  REQUIRE(state.ok());
  REQUIRE(state->update_state([](ClassroomState& s) { s.placement["team0"] = "test:///0"; }).ok());
  SECTION("a reader of the old file still reads all of it") {
    const std::string before = labctl::testing::read_file(state->state_path());
    std::ifstream old(state->state_path());
    REQUIRE(state->update_state([](ClassroomState& s) { s.placement.clear(); }).ok());
    std::ostringstream seen;
    seen << old.rdbuf();
    CHECK(seen.str() == before);
    CHECK(state->read_state()->placement.empty());
  }
  SECTION("concurrent updates all land, and no temp file is left behind") {
    std::atomic<int> failed = 0;  // Catch2's assertions are for the test's own thread
    std::vector<std::thread> workers;
    for (int i = 1; i <= 8; ++i) {
      workers.emplace_back([&, i] {
        const std::string team = "team" + std::to_string(i);
        if (!state->update_state([&](ClassroomState& s) { s.placement[team] = "test:///x"; })) {
          ++failed;
        }
      });
    }
    for (auto& w : workers) {
      w.join();
    }
    CHECK(failed == 0);
    CHECK(state->read_state()->placement.size() == 9);
    for (const auto& entry : fs::directory_iterator(state->dir())) {
      CHECK(entry.path().filename() == "state.json");
    }
    CHECK(mode_of(state->state_path()) == 0600);
  }
}
