#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "provision/converge/instances.hpp"
#include "provision/model/instance_rules.hpp"
#include "provision/model/loader.hpp"
#include "tests/support/golden.hpp"
#include "tests/support/labs.hpp"

using namespace labctl;
using labctl::converge::NewInstanceArgs;

namespace {

model::Lab classroom() {
  return testing::example_lab("classroom.yaml");
}

const model::Vm& vm_of(const model::Lab& lab, const std::string& key) {
  for (const model::Vm& vm : lab.find_team("team3")->vms) {
    if (vm.key == key) {
      return vm;
    }
  }
  FAIL("no VM " << key);
  throw;
}

// vm3 of classroom.yaml (main 6.0.0 on 8081), with room for a second instance: for the tests
// of naming, ports and records, not of the memory budget.
model::Vm roomy(const model::Lab& lab) {
  model::Vm vm = vm_of(lab, "vm3");
  vm.memory = 4 * model::k_gib;
  return vm;
}

// The error new_instance() gives; every refusal is a usage error (exit code 2).
std::string refusal(const model::Vm& vm, const std::vector<model::Instance>& existing,
                    const NewInstanceArgs& args) {
  auto instance = converge::new_instance(vm, existing, args);
  REQUIRE_FALSE(instance.ok());
  CHECK(instance.error().kind == ErrorKind::usage);
  CHECK(instance.error().exit_code() == 2);
  return instance.error().message;
}

model::Instance at(const std::string& name, int port) {
  model::Instance instance;
  instance.name = name;
  instance.version = "6.0.0";
  instance.port = port;
  return instance;
}

// Records every command and file; answers `docker inspect` of the app containers with
// `running`, a pg_dump with a marker, and fails (exit 1) any command containing `fail_on`.
class FakeRemote : public squashtm::Remote {
 public:
  std::vector<std::string> commands;
  std::vector<std::string> files;
  std::string running = "[]";
  std::string fail_on;

  Result<squashtm::ExecResult> exec(const std::string& command) override {
    commands.push_back(command);
    if (!fail_on.empty() && command.find(fail_on) != std::string::npos) {
      return squashtm::ExecResult{1, "", "it broke"};
    }
    if (command.starts_with("ids=$(docker ps")) {
      return squashtm::ExecResult{0, running, ""};
    }
    if (command.find("pg_dump") != std::string::npos) {
      return squashtm::ExecResult{0, "-- dump of main\n", ""};
    }
    return squashtm::ExecResult{0, "", ""};
  }
  Status put_file(const std::string& path, const std::string&, int) override {
    files.push_back(path);
    return {};
  }

  bool ran(const std::string& part) const {
    return std::any_of(commands.begin(), commands.end(),
                       [&](const std::string& c) { return c.find(part) != std::string::npos; });
  }
};

// `docker inspect` of one running app container, as Lifecycle::ls reads it.
std::string inspect_of(const std::string& name, const std::string& version, int port) {
  const nlohmann::json labels = {{"labctl.instance", name},
                                 {"labctl.version", version},
                                 {"labctl.port", std::to_string(port)},
                                 {"labctl.db", "postgresql"},
                                 {"labctl.image", "squashtest/squash-tm"}};
  return nlohmann::json::array({{{"Id", "c0ffee"},
                                 {"Config", {{"Labels", labels}}},
                                 {"State", {{"Status", "running"}}}}})
      .dump();
}

std::vector<std::string> recorded_names(const sys::StateDir& state, const model::Vm& vm) {
  std::vector<std::string> out;
  for (const model::Instance& i : state.read_state()->effective_instances(vm)) {
    out.push_back(i.name + " " + i.version);
  }
  return out;
}

}  // namespace

TEST_CASE("squash add: a new instance takes the next free port and a name from its version",
          "[unit][converge]") {
  const model::Lab lab = classroom();
  const model::Vm vm2 = roomy(lab);

  SECTION("after the lab file's instance") {
    auto instance = converge::new_instance(vm2, vm2.instances, {"", "6.1.0"});
    REQUIRE(instance.ok());
    CHECK(instance->name == "v6-1-0");
    CHECK(instance->version == "6.1.0");
    CHECK(instance->port == 8082);
    CHECK(instance->db == model::DbKind::postgresql);
    CHECK(instance->image == "squashtest/squash-tm");
    CHECK(instance->memory == model::k_instance_memory);
  }
  SECTION("the first gap, not after the highest port") {
    CHECK(model::next_free_port(model::ports_of({at("a", 8081), at("b", 8083)})) == 8082);
    CHECK(model::next_free_port(model::ports_of({at("a", 8082)})) == 8081);
    CHECK(model::next_free_port({}) == 8081);
  }
  SECTION("a given name, port and database are kept") {
    auto instance = converge::new_instance(
        vm2, vm2.instances, {"exam", "1.22.2.RELEASE", 9000, model::DbKind::h2, "reg/sq"});
    REQUIRE(instance.ok());
    CHECK(instance->name == "exam");
    CHECK(instance->port == 9000);
    CHECK(instance->db == model::DbKind::h2);
    CHECK(instance->image == "reg/sq");
  }
  SECTION("the derived name avoids one in use") {
    auto instance = converge::new_instance(vm2, {at("v6-1-0", 8081)}, {"", "6.1.0"});
    REQUIRE(instance.ok());
    CHECK(instance->name == "v6-1-0-2");
    auto release = converge::new_instance(vm2, {}, {"", "1.22.2.RELEASE"});
    REQUIRE(release.ok());
    CHECK(release->name == "v1-22-2-release");
  }
}

TEST_CASE("squash add: refusals say what is wrong and change nothing", "[unit][converge]") {
  const model::Lab lab = classroom();
  const model::Vm& vm2 = vm_of(lab, "vm3");
  const std::vector<model::Instance> existing = vm2.instances;

  SECTION("duplicate name") {
    CHECK(refusal(vm2, existing, {"main", "6.1.0"}) ==
          "duplicate instance name 'main' on cd26-team3-vm3");
  }
  SECTION("duplicate port") {
    CHECK(refusal(vm2, existing, {"other", "6.1.0", 8081}) ==
          "port 8081 already used by instance 'main' on cd26-team3-vm3");
  }
  SECTION("port outside 1024-65535") {
    CHECK(refusal(vm2, existing, {"other", "6.1.0", 80}) == "port 80 is outside 1024-65535");
    CHECK(refusal(vm2, existing, {"other", "6.1.0", 65536}) == "port 65536 is outside 1024-65535");
  }
  SECTION("bad version") {
    for (const char* version : {"latest", "6", "6.0.0;reboot", "", "6.0.0 "}) {
      INFO(version);
      CHECK(refusal(vm2, existing, {"other", version}).starts_with("invalid version"));
    }
  }
  SECTION("bad name") {
    for (const char* name : {"Main", "1st", "a_b", "x;y"}) {
      INFO(name);
      CHECK(refusal(vm2, existing, {name, "6.1.0"}).starts_with("invalid instance name"));
    }
  }
  SECTION("over the VM's memory budget, item by item") {
    CHECK(refusal(vm2, existing, {"second", "6.1.0"}) ==
          "VM cd26-team3-vm3: its Squash TM stack would need more than its 2GiB: 256MiB guest + "
          "128MiB Docker + 1GiB main + 128MiB main's database + 1GiB second + 128MiB second's "
          "database = 2688MiB (remove an instance first, or use --db h2)");
    refusal(vm2, existing, {"second", "6.1.0", 0, model::DbKind::h2});  // 2560MiB
    // The lab's squashtm.memory (here 512MiB) makes room for a small h2 instance: 2048MiB.
    auto small = converge::new_instance(
        vm2, existing,
        {"second", "6.1.0", 0, model::DbKind::h2, "squashtest/squash-tm", 512 * model::k_mib});
    REQUIRE(small.ok());
    CHECK(small->memory == 512 * model::k_mib);
  }
}

TEST_CASE("squash add/upgrade: the recorded instance is the one `up` deploys", "[unit][converge]") {
  const model::Lab lab = classroom();
  const model::Vm& vm2 = vm_of(lab, "vm3");
  sys::ClassroomState state;
  auto names = [&] {
    std::vector<std::string> out;
    for (const model::Instance& i : state.effective_instances(vm2)) {
      out.push_back(i.name + " " + i.version + " " + std::to_string(i.port));
    }
    return out;
  };
  model::Instance added = at("extra", 8082);

  SECTION("an added instance, then its upgrade") {
    state.record_added(vm2, added);
    CHECK(names() == std::vector<std::string>{"main 6.0.0 8081", "extra 6.0.0 8082"});
    added.version = "6.1.0";
    state.record_added(vm2, added);
    CHECK(names() == std::vector<std::string>{"main 6.0.0 8081", "extra 6.1.0 8082"});
    state.record_removed(vm2, "extra");
    CHECK(names() == std::vector<std::string>{"main 6.0.0 8081"});
  }
  SECTION("the lab file's instance upgraded, then removed") {
    model::Instance main = vm2.instances.front();
    main.version = "6.1.0";
    state.record_added(vm2, main);
    CHECK(names() == std::vector<std::string>{"main 6.1.0 8081"});
    state.record_removed(vm2, "main");
    CHECK(names().empty());
  }
  SECTION("the lab file's instance removed, then added again") {
    state.record_removed(vm2, "main");
    CHECK(names().empty());
    model::Instance main = at("main", 8085);
    state.record_added(vm2, main);
    CHECK(names() == std::vector<std::string>{"main 6.0.0 8085"});
  }
}

TEST_CASE("squash add/rm/upgrade record in state.json only what the VM did", "[unit][converge]") {
  const model::Lab lab = classroom();
  const model::Vm vm2 = roomy(lab);
  testing::ScratchDir scratch("lct-converge-squash");
  auto state = sys::StateDir::open_at(scratch.path(), lab.classroom);
  REQUIRE(state.ok());
  const converge::VmRef at{lab, *state, vm2};
  FakeRemote remote;
  auto extra = converge::new_instance(vm2, vm2.instances, {"extra", "6.1.0"});
  REQUIRE(extra.ok());

  SECTION("add: recorded after the VM started it") {
    REQUIRE(converge::add_recorded(remote, at, *extra).ok());
    CHECK(remote.ran("-p 'squash-extra'"));
    CHECK(remote.ran("up -d"));
    CHECK(recorded_names(*state, vm2) == std::vector<std::string>{"main 6.0.0", "extra 6.1.0"});
  }
  SECTION("add: nothing recorded when it does not start, and what it made is removed") {
    remote.fail_on = "up -d";
    auto added = converge::add_recorded(remote, at, *extra);
    REQUIRE_FALSE(added.ok());
    CHECK(added.error().message.starts_with("adding 'extra':"));
    CHECK(remote.ran("down -v"));
    CHECK(recorded_names(*state, vm2) == std::vector<std::string>{"main 6.0.0"});
  }
  SECTION("rm: only that instance, then recorded; its password goes with its data") {
    REQUIRE(converge::add_recorded(remote, at, *extra).ok());
    const std::string secret = vm2.name + "-extra-db";
    REQUIRE(state->read_secret(secret).ok());
    remote.commands.clear();
    REQUIRE(converge::rm_recorded(remote, at, "extra", false).ok());
    CHECK(remote.ran("-p 'squash-extra'"));
    CHECK_FALSE(remote.ran("squash-main"));
    CHECK(recorded_names(*state, vm2) == std::vector<std::string>{"main 6.0.0"});
    CHECK_FALSE(state->read_secret(secret).ok());
  }
  SECTION("rm --keep-data keeps the password the kept database opens with") {
    REQUIRE(converge::add_recorded(remote, at, *extra).ok());
    REQUIRE(converge::rm_recorded(remote, at, "extra", true).ok());
    CHECK(state->read_secret(vm2.name + "-extra-db").ok());
  }
  SECTION("rm: nothing recorded when the VM refuses") {
    remote.fail_on = "down";
    REQUIRE_FALSE(converge::rm_recorded(remote, at, "main", true).ok());
    CHECK(recorded_names(*state, vm2) == std::vector<std::string>{"main 6.0.0"});
  }
  SECTION("upgrade: when the app cannot be recreated, the dump is already kept") {
    remote.running = inspect_of("main", "6.0.0", 8081);
    remote.fail_on = "up -d --no-deps app";
    auto done = converge::upgrade_recorded(remote, at, vm2.instances.front(), "6.1.0", false);
    REQUIRE_FALSE(done.ok());
    CHECK(done.error().message.find("its dump is kept in " + (state->dir() / "dumps").string()) !=
          std::string::npos);
    CHECK(std::distance(std::filesystem::directory_iterator(state->dir() / "dumps"),
                        std::filesystem::directory_iterator{}) == 1);
    CHECK(recorded_names(*state, vm2) == std::vector<std::string>{"main 6.0.0"});
  }
  SECTION("upgrade: the dump is kept 0600 and the new version recorded") {
    remote.running = inspect_of("main", "6.0.0", 8081);
    auto done = converge::upgrade_recorded(remote, at, vm2.instances.front(), "6.1.0", false);
    REQUIRE(done.ok());
    CHECK(done->result.from_version == "6.0.0");
    CHECK(done->result.dump_kind == "pg_dump");
    CHECK(done->dump.parent_path() == state->dir() / "dumps");
    CHECK(done->dump.filename().string().starts_with("cd26-team3-vm3-main-6.0.0-"));
    CHECK(done->dump.extension() == ".sql");
    CHECK(testing::read_file(done->dump) == "-- dump of main\n");
    struct stat st {};
    REQUIRE(::stat(done->dump.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    REQUIRE(::stat(done->dump.parent_path().c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);
    CHECK(recorded_names(*state, vm2) == std::vector<std::string>{"main 6.1.0"});
  }
  SECTION("upgrade: a refused downgrade records nothing and stores no dump") {
    remote.running = inspect_of("main", "6.0.0", 8081);
    auto done = converge::upgrade_recorded(remote, at, vm2.instances.front(), "5.1.0", false);
    REQUIRE_FALSE(done.ok());
    CHECK(done.error().kind == ErrorKind::usage);
    CHECK_FALSE(std::filesystem::exists(state->dir() / "dumps"));
    CHECK(recorded_names(*state, vm2) == std::vector<std::string>{"main 6.0.0"});
  }
}
