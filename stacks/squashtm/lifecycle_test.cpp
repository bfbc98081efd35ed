// [docker] tier: the stack against this host's Docker engine, with the busybox stand-in images
// (standin/build-standin) on loopback ports 18081..; everything carries a per-run label and is
// removed at the end, also when a check fails.

#include "stacks/squashtm/lifecycle.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <random>
#include <thread>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "stacks/squashtm/health.hpp"
#include "stacks/squashtm/names.hpp"
#include "tests/support/golden.hpp"
#include "tests/support/squashtm.hpp"

using namespace labctl::squashtm;
using labctl::model::DbKind;

using namespace std::chrono_literals;

namespace {

// One test run: stand-in images, a scratch root, a Lifecycle; all removed by the destructor.
struct Run {
  std::string id = labctl::testing::run_id();
  std::string repo = "lct-squash-" + id + "/squash-tm";
  std::string postgres = "lct-squash-" + id + "/postgres:15";
  labctl::testing::ScratchDir scratch{"lct-squash"};
  labctl::sys::SystemRunner runner;
  LocalRemote remote{runner, scratch.path()};
  Owner owner{"lct-squash-" + id, "team1", "lct-squash-" + id + "-vm1"};
  StackOptions options;
  std::unique_ptr<Lifecycle> stack;

  Run() {
    options.root = (scratch.path() / "opt/labctl/squash").string();
    options.bind_address = "127.0.0.1";
    options.postgres_image = postgres;
    options.check_interval = "1s";
    auto vm =
        labctl::testing::stack_vm(4 * labctl::model::k_gib);  // three 1 GiB instances fit, not four
    vm.name = owner.vm;
    stack = std::make_unique<Lifecycle>(remote, owner, vm, options);
  }
  ~Run() {
    (void)stack->sweep();
    (void)remote.exec(fmt::format("docker rmi {}:1.21.0 {}:1.22.0 {}:6.0.0 {}:6.1.0 {} >/dev/null",
                                  repo, repo, repo, repo, postgres));
  }
  std::string sh(const std::string& command) {
    auto r = remote.exec(command);
    return r ? r->out : "";
  }
  labctl::model::Instance instance(const std::string& name, const std::string& version, int port,
                                   DbKind db = DbKind::h2) {
    return labctl::testing::stack_instance(name + id, version, port, db, repo);
  }
};

std::vector<std::string> names_and_versions(Lifecycle& stack) {
  std::vector<std::string> out;
  auto list = stack.ls();
  REQUIRE(list.ok());
  for (const InstanceStatus& status : *list) {
    out.push_back(fmt::format("{} {} {} {}", status.instance.name, status.instance.version,
                              status.instance.port, status.state));
  }
  return out;
}

}  // namespace

TEST_CASE("Squash TM stack: every rendered file passes docker-compose config", "[docker]") {
  Run run;
  auto vm = labctl::testing::stack_vm();
  vm.instances = {labctl::testing::stack_instance("main", "6.0.0", 18081),
                  labctl::testing::stack_instance("old", "1.21.0", 18082, DbKind::mariadb),
                  labctl::testing::stack_instance("demo", "6.1.0", 18083, DbKind::h2)};
  vm.memory = 4 * labctl::model::k_gib;
  run.options.proxy = true;
  run.options.autoheal = true;
  auto rendered = render_stack(run.owner, vm, run.options, {{"main", "p1"}, {"old", "p2"}});
  REQUIRE(rendered.ok());
  int composes = 0;
  for (const File& file : rendered->files) {
    REQUIRE(run.remote.put_file(file.path, file.content, file.mode).ok());
  }
  for (const File& file : rendered->files) {
    if (file.path.ends_with("docker-compose.yml")) {
      auto r = run.remote.exec("docker-compose -f " + sh_quote(file.path) + " config -q");
      REQUIRE(r.ok());
      INFO(file.path << ": " << r->err);
      CHECK(r->exit_code == 0);
      ++composes;
    }
  }
  CHECK(composes == 5);
}

TEST_CASE("Squash TM stack lifecycle on real containers with stand-in images", "[docker]") {
  Run run;
  const std::string script =
      (labctl::testing::source_dir() / "stacks/squashtm/standin/build-standin").string();
  auto built = run.remote.exec(fmt::format("{} --repo {} --postgres {} 1.21.0 1.22.0 6.0.0 6.1.0",
                                           sh_quote(script), run.repo, run.postgres));
  REQUIRE(built.ok());
  INFO(built->err);
  REQUIRE(built->exit_code == 0);
  Lifecycle& stack = *run.stack;
  const auto a = run.instance("a", "6.0.0", 18081);
  const auto b = run.instance("b", "1.21.0", 18082, DbKind::postgresql);
  REQUIRE(stack.deploy({a, b}, {{b.name, "PwB0123456789"}}).ok());

  SECTION("two versions answer on their own ports, then add, upgrade, rm, restart") {
    CHECK(labctl::testing::wait_healthy(18081, "version 6.0.0").first_line ==
          "Squash is Alive! version 6.0.0");
    CHECK(labctl::testing::wait_healthy(18082, "version 1.21.0").first_line ==
          "Squash is Alive! version 1.21.0");
    CHECK(names_and_versions(stack) == std::vector<std::string>{a.name + " 6.0.0 18081 running",
                                                                b.name + " 1.21.0 18082 running"});
    // The 1.x instance got the linked-container variables, the current one SQTM_DB_* (none: h2).
    CHECK(run.sh("docker exec squash-" + b.name + "_app_1 cat /www/squash/env-names") ==
          "DB_HOST\nJAVA_ARGS\nPOSTGRES_ENV_POSTGRES_DB\nPOSTGRES_ENV_POSTGRES_PASSWORD\n"
          "POSTGRES_ENV_POSTGRES_USER\nTZ\n");
    CHECK(run.sh("docker exec squash-" + a.name + "_app_1 cat /www/squash/env-names") ==
          "JAVA_ARGS\nTZ\n");
    // The database is on the backend network only; secrets are 0600.
    CHECK(run.sh("docker inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' "
                 "squash-" +
                 b.name + "_db_1") == "squash-" + b.name + "_backend \n");
    struct stat st {};
    REQUIRE(::stat((run.options.root + "/" + b.name + "/.env").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);

    const auto c = run.instance("c", "6.1.0", 18083);
    REQUIRE(stack.add(c, "").ok());
    CHECK(labctl::testing::wait_healthy(18083, "version 6.1.0").healthy);

    SECTION("upgrade dumps first and recreates only the app") {
      const std::string db_before =
          run.sh("docker inspect -f '{{.Id}}' squash-" + b.name + "_db_1");
      auto up = stack.upgrade(b.name, "1.22.0", false);
      REQUIRE(up.ok());
      CHECK(up->dump_kind == "pg_dump");
      CHECK(up->dump.find("-- labctl stand-in pg_dump -U squashtm squashtm") == 0);
      CHECK(labctl::testing::wait_healthy(18082, "version 1.22.0").first_line ==
            "Squash is Alive! version 1.22.0");
      CHECK(run.sh("docker inspect -f '{{.Id}}' squash-" + b.name + "_db_1") == db_before);

      auto h2 = stack.upgrade(a.name, "6.1.0", false);
      REQUIRE(h2.ok());
      CHECK(h2->dump_kind == "h2-tar");
      CHECK(h2->dump.find("labctl stand-in h2 data, created by version 6.0.0") !=
            std::string::npos);
      CHECK(labctl::testing::wait_healthy(18081, "version 6.1.0").healthy);

      auto down = stack.upgrade(c.name, "6.0.0", false);
      REQUIRE_FALSE(down.ok());
      CHECK(down.error().message.find("refusing to downgrade '" + c.name +
                                      "' from 6.1.0 to 6.0.0") == 0);
      CHECK(labctl::testing::wait_healthy(18083, "version 6.1.0").healthy);
    }
    SECTION("rm removes only that instance and its volume") {
      REQUIRE(stack.rm(b.name, false).ok());
      labctl::sys::CurlHttpClient http;
      CHECK_FALSE(probe_health(http, "127.0.0.1", 18082, 1000ms).healthy);
      CHECK(labctl::testing::wait_healthy(18081, "6.0.0").healthy);
      CHECK(labctl::testing::wait_healthy(18083, "6.1.0").healthy);
      CHECK(run.sh("docker volume ls -q --filter label=labctl.instance=" + b.name) == "");
      CHECK(run.sh("docker volume ls -q --filter label=labctl.instance=" + a.name) != "");
      CHECK(names_and_versions(stack) == std::vector<std::string>{a.name + " 6.0.0 18081 running",
                                                                  c.name + " 6.1.0 18083 running"});
    }
    SECTION("a crash inside restarts the app; docker kill does not (manual stop)") {
      const std::string app = "squash-" + a.name + "_app_1";
      run.sh("docker exec " + app + " sh -c 'kill $(pidof httpd)'");
      CHECK(labctl::testing::wait_healthy(18081, "6.0.0").healthy);
      CHECK(run.sh("docker inspect -f '{{.RestartCount}}' " + app) == "1\n");
      run.sh("docker kill " + app);
      std::this_thread::sleep_for(3s);
      CHECK(run.sh("docker inspect -f '{{.State.Status}}' " + app) == "exited\n");
    }
  }

  SECTION("bad input is refused and changes nothing") {
    const auto before = names_and_versions(stack);
    const auto before_containers = run.sh("docker ps -aq " + label_filters(run.owner));
    auto bad_version = stack.add(run.instance("d", "6.x", 18084), "");
    REQUIRE_FALSE(bad_version.ok());
    CHECK(bad_version.error().message.find("unknown Squash TM version format '6.x'") == 0);
    auto port_used = stack.add(run.instance("d", "6.0.0", 18081), "");
    REQUIRE_FALSE(port_used.ok());
    CHECK(port_used.error().message ==
          run.owner.vm + ": port 18081 is taken by instance '" + a.name + "'");
    auto name_used = stack.add(run.instance("a", "6.1.0", 18084), "");
    REQUIRE_FALSE(name_used.ok());
    CHECK(name_used.error().message ==
          run.owner.vm + ": instance '" + a.name + "' already exists (6.0.0 on port 18081)");
    REQUIRE(stack.add(run.instance("c", "6.1.0", 18083), "").ok());
    auto too_many = stack.add(run.instance("d", "6.0.0", 18084), "");
    REQUIRE_FALSE(too_many.ok());
    CHECK(too_many.error().message.starts_with(
        run.owner.vm +
        ": 4 Squash TM instance(s) need more than the VM's 4GiB: 256MiB guest + 128MiB Docker + "));
    CHECK(too_many.error().message.ends_with(" + 1GiB d" + run.id + " = 4608MiB"));
    REQUIRE(stack.rm(run.instance("c", "6.1.0", 18083).name, false).ok());
    CHECK(names_and_versions(stack) == before);
    CHECK(run.sh("docker ps -aq " + label_filters(run.owner)) == before_containers);

    // A port held by something that is not ours: compose fails, the half-made instance goes.
    run.sh(fmt::format(
        "docker run -d --name lct-squash-{}-squatter --label labctl.classroom={} "
        "--label labctl.team=team1 --label labctl.vm={} -p 127.0.0.1:18085:8080 {}:6.0.0",
        run.id, run.owner.classroom, run.owner.vm, run.repo));
    const auto d = run.instance("d", "6.0.0", 18085);
    auto squatted = stack.add(d, "");
    REQUIRE_FALSE(squatted.ok());
    CHECK(squatted.error().message.find("adding '" + d.name + "': starting squash-" + d.name +
                                        " failed") == 0);
    CHECK(names_and_versions(stack) == before);
    CHECK(run.sh("docker ps -aq " + label_filters(run.owner, "", d.name)) == "");
    CHECK(run.sh("docker volume ls -q " + label_filters(run.owner, "", d.name)) == "");
    CHECK_FALSE(std::filesystem::exists(instance_dir(run.options, d.name)));
  }
}

TEST_CASE("Squash TM stack: an instance that cannot start does not keep the others down",
          "[docker]") {
  Run run;
  const std::string script =
      (labctl::testing::source_dir() / "stacks/squashtm/standin/build-standin").string();
  auto built = run.remote.exec(fmt::format("{} --repo {} 6.0.0", sh_quote(script), run.repo));
  REQUIRE(built.ok());
  INFO(built->err);
  REQUIRE(built->exit_code == 0);
  // The first instance's version has no image anywhere (no registry is configured for the
  // stand-in repository either): its start fails, the one listed after it still starts.
  const auto missing = run.instance("gone", "1.7.4", 18086);
  const auto kept = run.instance("kept", "6.0.0", 18087);
  auto deployed = run.stack->deploy({missing, kept}, {});
  REQUIRE_FALSE(deployed.ok());
  CHECK(deployed.error().message.find("squash-" + missing.name) != std::string::npos);
  CHECK(deployed.error().message.find("squash-" + kept.name) == std::string::npos);
  CHECK(labctl::testing::wait_healthy(18087, "version 6.0.0").first_line ==
        "Squash is Alive! version 6.0.0");
}
