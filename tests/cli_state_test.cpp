#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "provision/sys/classroom_lock.hpp"
#include "tests/support/golden.hpp"
#include "tests/support/labctl_cli.hpp"

// The classroom's state directory as the labctl executable treats it: read-only commands
// create nothing, `down --all` lists every path it deletes and keeps the database dumps
// unless --purge, `status` and `squash ls` say when the stack is the stand-in and when an
// address is only planned, writers take the classroom lock in it (refused under
// --no-wait-lock, else they wait). Against test:///default: no VM exists.

namespace {

namespace fs = std::filesystem;
using labctl::testing::LabctlCli;
using labctl::testing::ScratchDir;

const std::string k_lab = labctl::testing::small_lab_text("stt", "[red]");

struct Fixture {
  ScratchDir scratch{"lct-state"};
  LabctlCli labctl{scratch.path(), {.global_args = {"--connect", "test:///default"}}};
  fs::path root = scratch.path() / "state";
  fs::path dir = root / "stt";

  Fixture() {
    std::ofstream(scratch.path() / "lab.yaml") << k_lab;
    fs::create_directories(root);
  }
  void put(const std::string& relative, const std::string& text = "x") const {
    fs::create_directories((dir / relative).parent_path());
    std::ofstream(dir / relative) << text;
  }
  nlohmann::json json(const std::vector<std::string>& args) const {
    std::vector<std::string> with = {"--json"};
    with.insert(with.end(), args.begin(), args.end());
    const auto result = labctl.run(with);
    REQUIRE(result.exit_code == 0);
    return nlohmann::json::parse(result.out);
  }
};

std::vector<std::string> tree(const fs::path& dir) {
  std::vector<std::string> out;
  if (fs::exists(dir)) {
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
      out.push_back(entry.path().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("read-only commands create nothing in the state directory", "[exe][state]") {
  Fixture f;
  const std::vector<std::vector<std::string>> commands = {
      {"validate"},
      {"show", "red"},
      {"plan", "--all", "--force"},
      {"up", "--all", "--dry-run", "--force"},
      {"status"},
      {"handout", "--all"},
      {"squash", "ls"},
  };
  for (const auto& args : commands) {
    for (bool json : {false, true}) {
      std::vector<std::string> run = args;
      if (json) {
        run.insert(run.begin(), "--json");
      }
      CHECK(f.labctl.run(run).exit_code == 0);
      CHECK(tree(f.root).empty());
    }
  }
}

TEST_CASE("status and squash ls mark a stand-in stack and planned addresses", "[exe][state]") {
  Fixture f;
  SECTION("a VM that does not exist: its address is planned") {
    const auto status = f.labctl.run({"status"});
    CHECK(contains(status.out, " (planned)"));
    const auto rows = f.json({"status"});
    CHECK(rows[0]["state"] == "absent");
    CHECK(rows[0]["ip_planned"] == true);
    CHECK(rows[0]["standin"] == false);
  }
  SECTION("state.json says stand-in") {
    f.put("state.json", R"({"standin": true})");
    CHECK(contains(f.labctl.run({"status"}).out, "standin:"));
    CHECK(f.json({"status"})[0]["standin"] == true);
    CHECK(contains(f.labctl.run({"squash", "ls"}).out, "6.0.0 (standin)"));
    CHECK(f.json({"squash", "ls"})[0]["standin"] == true);
  }
  SECTION("without it, nothing is marked") {
    CHECK_FALSE(contains(f.labctl.run({"status"}).out, "standin"));
    CHECK(f.json({"squash", "ls"})[0]["standin"] == false);
  }
}

TEST_CASE("down --all lists every path it deletes and keeps the dumps", "[exe][state]") {
  Fixture f;
  for (const char* file :
       {"id_ed25519", "id_ed25519.pub", "known_hosts", "secrets/stt-red-vm1-main",
        "logs/stt-red-vm1.serial.log", "dumps/stt-red-vm1-main-6.0.0-20260101T000000Z.sql"}) {
    f.put(file);
  }
  f.put("state.json", "{}");  // `down` reads the identity: a state it cannot read stops it
  const std::string dump = (f.dir / "dumps/stt-red-vm1-main-6.0.0-20260101T000000Z.sql").string();
  const std::vector<std::string> deleted = {f.dir / "id_ed25519",
                                            f.dir / "id_ed25519.pub",
                                            f.dir / "known_hosts",
                                            f.dir / "logs",
                                            f.dir / "logs/stt-red-vm1.serial.log",
                                            f.dir / "secrets",
                                            f.dir / "secrets/stt-red-vm1-main",
                                            f.dir / "state.json"};

  SECTION("the plan names each path; the dumps stay, and where is said") {
    const auto down = f.labctl.run({"down", "--all", "--yes"});
    REQUIRE(down.exit_code == 0);
    for (const std::string& path : deleted) {
      CHECK(contains(down.out, "delete  state  " + path + "\n"));
    }
    CHECK(contains(down.out, "keep    dump   " + dump + "\n"));
    CHECK(contains(down.out, "Database dumps are kept in " + (f.dir / "dumps").string()));
    CHECK(tree(f.root) == std::vector<std::string>{f.dir, f.dir / "dumps", dump});
  }
  SECTION("--json: the same lists; --purge deletes the dumps and the directory") {
    const auto doc = f.json({"down", "--all", "--yes"});
    CHECK(doc["state"]["delete"] == deleted);
    CHECK(doc["state"]["keep"] ==
          std::vector<std::string>{f.dir.string(), (f.dir / "dumps").string(), dump});
    const auto purged = f.json({"down", "--all", "--yes", "--purge"});
    CHECK(purged["state"]["delete"] ==
          std::vector<std::string>{f.dir.string(), (f.dir / "dumps").string(), dump});
    CHECK(purged["state"]["keep"].empty());
    CHECK(tree(f.root).empty());
  }
  SECTION("not confirmed: nothing goes") {
    CHECK(f.labctl.run({"down", "--all"}).exit_code == 2);
    CHECK(tree(f.dir).size() == deleted.size() + 3);  // the dumps, and the lock file down took
  }
  SECTION("--purge without --all is refused") {
    CHECK(f.labctl.run({"down", "red", "--purge", "--yes"}).exit_code == 2);
  }
}

TEST_CASE("handout --out writes each team's files, --archive a .tar.gz of them", "[exe][state]") {
  Fixture f;
  const fs::path out = f.scratch.path() / "out";
  SECTION("a directory per team: sheet, the team's key (0600), ssh_config, known_hosts") {
    const auto written = f.json({"handout", "red", "--out", out.string()});
    CHECK(written["written"][0]["path"] == (out / "stt-red").string());
    const fs::path dir = out / "stt-red";
    // --json: the sheet is JSON too (the global --json is --format json)
    CHECK(tree(dir) ==
          std::vector<std::string>{(dir / "handout.json").string(), (dir / "known_hosts").string(),
                                   (dir / "red.key").string(), (dir / "ssh_config").string()});
    CHECK((fs::status(dir / "red.key").permissions() & fs::perms::all) ==
          (fs::perms::owner_read | fs::perms::owner_write));
    // The key is the team's, made in the state directory, not the classroom's.
    CHECK(labctl::testing::read_file(dir / "red.key") ==
          labctl::testing::read_file(f.dir / "teamkeys" / "red.key"));
    CHECK(labctl::testing::read_file(dir / "red.key") !=
          labctl::testing::read_file(f.dir / "id_ed25519"));
    for (const char* name : {"handout.json", "ssh_config", "known_hosts"}) {
      CHECK_FALSE(contains(labctl::testing::read_file(dir / name), f.root.string()));
    }
  }
  SECTION("an archive per team holding that directory") {
    const auto result =
        f.labctl.run({"handout", "red", "--out", out.string(), "--archive", "--format", "html"});
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    const auto listing =
        labctl::sys::SystemRunner().run({"tar", "tzf", (out / "stt-red.tar.gz").string()});
    REQUIRE(listing.ok());
    CHECK(listing->out ==
          "stt-red/\nstt-red/handout.html\nstt-red/red.key\nstt-red/ssh_config\n"
          "stt-red/known_hosts\n");
  }
  SECTION("--archive needs --out") {
    CHECK(f.labctl.run({"handout", "red", "--archive"}).exit_code == 2);
  }
}

TEST_CASE("an unreadable state.json is an error, not a fresh placement or an empty classroom",
          "[exe]") {
  ScratchDir scratch("lct-state");
  const fs::path root = scratch.path() / "state";
  fs::create_directories(root / "stp");
  // One listed host, the team not pinned: where it goes comes from the recorded placement.
  std::ofstream(scratch.path() / "lab.yaml") << R"(classroom: stp
hosts:
  - { uri: "test:///default" }
image: { build: debian-12, with: [docker] }
defaults: { memory: 512MiB, disk: 2GiB }
teams: { names: [red] }
template:
  networks:
    lan: { kind: nat }
  vms:
    vm1: {}
)";
  const LabctlCli labctl(scratch.path(), {});
  const fs::path state = root / "stp" / "state.json";
  std::ofstream(state) << R"({"placement": {"red": "test:///default"}})";
  // --force: test:///default's few MiB free do not hold the VM; placement is what is tested.
  const auto fine = labctl.run({"plan", "--all", "--force"});
  INFO(fine.out << fine.err);
  CHECK(fine.exit_code == 0);

  std::ofstream(state) << R"({"placement": {"red": )";
  for (const std::vector<std::string>& args : {std::vector<std::string>{"plan", "--all", "--force"},
                                               {"up", "--all", "--dry-run", "--force"}}) {
    const auto refused = labctl.run(args);
    INFO(refused.out << refused.err);
    CHECK(refused.exit_code == 1);
    CHECK(contains(refused.err, "cannot be read"));
    CHECK(contains(refused.err, state.string()));
  }
  // Read-only and removing commands alike: an error naming the file, not an empty classroom.
  for (const std::vector<std::string>& args : {std::vector<std::string>{"status"},
                                               {"--json", "status"},
                                               {"squash", "ls"},
                                               {"images", "ls"},
                                               {"down", "--all", "--yes"}}) {
    const auto refused = labctl.run(args);
    INFO(refused.out << refused.err);
    CHECK(refused.exit_code == 1);
    CHECK(contains(refused.err + refused.out, state.string()));
  }
  CHECK(labctl::testing::read_file(state) == R"({"placement": {"red": )");
}

TEST_CASE("a writer finds the classroom lock held: --no-wait-lock refuses, naming its holder",
          "[exe][state][lock]") {
  Fixture f;
  f.put("state.json", "{}");
  f.put("secrets/stt-red-vm1-main");
  auto held = labctl::sys::ClassroomLock::acquire(f.dir, "labctl serve: add red/vm1 v6",
                                                  labctl::sys::LockWait::fail);
  REQUIRE(held.ok());
  const auto before = tree(f.root);
  const std::string holder = "classroom stt is busy: pid " + std::to_string(::getpid()) +
                             " (labctl serve: add red/vm1 v6) since ";
  const std::vector<std::vector<std::string>> writers = {
      {"squash", "rm", "red", "vm1", "main"},
      {"squash", "add", "red", "vm1", "--version", "6.1.0"},
      {"up", "--all", "--no-wait"},
      {"reset", "red"},
      {"down", "--all", "--yes"},
      {"handout", "red", "--with-secrets"},
      {"handout", "--all", "--out", (f.scratch.path() / "out").string()},
  };
  for (const auto& args : writers) {
    std::vector<std::string> run = {"--no-wait-lock"};
    run.insert(run.end(), args.begin(), args.end());
    const auto refused = f.labctl.run(run);
    CHECK(refused.exit_code == 1);
    CHECK(contains(refused.err, "labctl: " + holder));
    CHECK(tree(f.root) == before);
    CHECK(labctl::testing::read_file(f.dir / "state.json") == "{}");
  }
  {
    const auto refused = f.labctl.run({"--json", "--no-wait-lock", "up", "--all", "--no-wait"});
    CHECK(refused.exit_code == 1);
    const auto doc = nlohmann::json::parse(refused.out);
    CHECK(doc["error"].value("message", "").starts_with(holder));
  }
  // Readers never take it.
  CHECK(f.labctl.run({"--no-wait-lock", "status"}).exit_code == 0);
  CHECK(f.labctl.run({"--no-wait-lock", "handout", "red"}).exit_code == 0);
  CHECK(f.labctl.run({"--no-wait-lock", "up", "--all", "--dry-run", "--force"}).exit_code == 0);
}

TEST_CASE("a writer waits for the classroom lock, says so once, and goes on when it is free",
          "[exe][state][lock]") {
  const bool json = GENERATE(false, true);
  Fixture f;
  const LabctlCli labctl{f.scratch.path(),
                         {.global_args = {"--connect", "test:///default"}, .timeout_seconds = 60}};
  std::optional<labctl::sys::ClassroomLock> held;
  {
    auto taken = labctl::sys::ClassroomLock::acquire(f.dir, "labctl serve: add red/vm1 v6",
                                                     labctl::sys::LockWait::fail);
    REQUIRE(taken.ok());
    held = std::move(*taken);
  }
  std::thread releaser([&held] {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    held.reset();
  });
  const auto start = std::chrono::steady_clock::now();
  const auto up = labctl.run(json ? std::vector<std::string>{"--json", "up", "--all", "--no-wait"}
                                  : std::vector<std::string>{"up", "--all", "--no-wait"});
  const auto waited = std::chrono::steady_clock::now() - start;
  releaser.join();
  CHECK(waited >= std::chrono::milliseconds(800));
  const std::string note = "waiting for the classroom lock: pid " + std::to_string(::getpid()) +
                           " (labctl serve: add red/vm1 v6) since ";
  CHECK(contains(up.err, json ? note : "labctl: note: " + note));
  CHECK(up.err.find(note) == up.err.rfind(note));  // once
  // Past the lock, up is refused as it is without one: test:///default's few MiB free.
  CHECK(up.exit_code == 1);
  CHECK(contains(json ? up.out : up.err, "test:///default"));
  CHECK_FALSE(contains(up.err, "is busy"));
  CHECK_FALSE(labctl::sys::ClassroomLock::holder(f.dir).has_value());
  // Refused before writing anything: the directory that only held the lock is gone.
  CHECK(tree(f.root).empty());
}

TEST_CASE("down takes the lock in the directory it removes, and leaves no directory behind",
          "[exe][state][lock]") {
  Fixture f;
  SECTION("down --all: the whole directory goes, its lock file unlisted") {
    f.put("state.json", "{}");
    f.put("known_hosts");
    const auto down = f.labctl.run({"down", "--all", "--yes"});
    CHECK(down.exit_code == 0);
    CHECK_FALSE(contains(down.out, (f.dir / "lock").string()));
    CHECK(tree(f.root).empty());
  }
  SECTION("no state directory: down makes none, not even for its lock") {
    CHECK(f.labctl.run({"down", "red", "--yes"}).exit_code == 0);
    CHECK(f.labctl.run({"down", "--all", "--yes"}).exit_code == 0);
    CHECK(tree(f.root).empty());
  }
}
