// [docker] tier: the host-built stand-in images (standin/build-standin: a real JVM, Debian's
// nginx-light, an autoheal loop) under the real names, run from labctl's rendered compose files
// on loopback ports 18181..; everything carries a per-run label and is removed at the end.

#include <random>
#include <regex>
#include <thread>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "provision/model/loader.hpp"
#include "stacks/squashtm/health.hpp"
#include "stacks/squashtm/lifecycle.hpp"
#include "stacks/squashtm/names.hpp"
#include "tests/support/golden.hpp"
#include "tests/support/squashtm.hpp"

using namespace labctl::squashtm;
using labctl::model::k_mib;
using namespace std::chrono_literals;

namespace {

// One VM's stack on this host's Docker, from a lab file; swept by the destructor.
struct StandinRun {
  std::string id = labctl::testing::run_id();
  labctl::testing::ScratchDir scratch{"lct-standin"};
  labctl::sys::SystemRunner runner;
  LocalRemote remote{runner, scratch.path()};
  labctl::model::Lab lab;
  labctl::model::Vm vm;
  Owner owner;
  StackOptions options;

  explicit StandinRun(const std::string& lab_text) {
    auto loaded = labctl::model::parse_lab(
        fmt::format("classroom: lct{}\nmemory_cap: 4GiB\nteams: {{count: 1}}\n{}", id, lab_text),
        "lab.yaml");
    INFO((loaded ? "" : loaded.error().message));
    REQUIRE(loaded.ok());
    lab = *loaded;
    vm = lab.teams[0].vms[0];
    owner = owner_of(lab.classroom, vm);
    options = stack_options(lab);
    options.root = (scratch.path() / "opt/labctl/squash").string();
    options.bind_address = "127.0.0.1";
    options.check_interval = "1s";
    options.proxy_port = 18180;
  }
  ~StandinRun() { (void)Lifecycle(remote, owner, vm, options).sweep(); }
  StandinRun(const StandinRun&) = delete;
  StandinRun& operator=(const StandinRun&) = delete;

  std::string sh(const std::string& command) {
    auto r = remote.exec(command);
    return r ? r->out : "";
  }
  // The host's Docker cannot be used (its reason), or "".
  std::string docker_missing() {
    auto r = remote.exec("docker info >/dev/null 2>&1");
    return r && r->exit_code == 0 ? "" : "docker is not installed or dockerd is not running";
  }
  void build(const std::string& args) {
    const std::string script =
        (labctl::testing::source_dir() / "stacks/squashtm/standin/build-standin").string();
    auto built = remote.exec(sh_quote(script) + " " + args);
    REQUIRE(built.ok());
    INFO(built->err);
    REQUIRE(built->exit_code == 0);
  }
  std::string app(const labctl::model::Instance& instance) {
    return project_name(instance.name) + "_app_1";
  }
};

// The number after `key` in a rendered compose file ("mem_limit: 1024m", "-Xmx768m").
std::uint64_t rendered_mib(const std::string& compose, const std::string& key) {
  std::smatch match;
  REQUIRE(std::regex_search(compose, match, std::regex(key + "([0-9]+)m")));
  return std::stoull(match[1]);
}

}  // namespace

TEST_CASE("stand-in JVM: the heap inside the container is the one rendered for its mem_limit",
          "[docker]") {
  StandinRun run(
      "squashtm: {memory: 768MiB}\ntemplate:\n  vms:\n    vm1:\n      memory: 4GiB\n"
      "      instances:\n        - {name: small, version: 6.0.0, db: h2, port: 18181}\n"
      "        - {name: big, version: 6.0.0, db: h2, port: 18182, memory: 1GiB}\n");
  if (const std::string why = run.docker_missing(); !why.empty()) {
    WARN("SKIPPED: " << why << " (provision/bootstrap --with-test-tools starts it)");
    return;
  }
  run.build("--no-support 6.0.0");
  Lifecycle stack(run.remote, run.owner, run.vm, run.options);
  REQUIRE(stack.deploy(run.vm.instances, {}).ok());
  for (const auto& instance : run.vm.instances) {
    INFO(instance.name);
    CHECK(labctl::testing::wait_healthy(instance.port, "version 6.0.0").healthy);
    const std::string compose = run.sh("cat " + sh_quote(compose_path(run.options, instance.name)));
    const std::uint64_t limit = rendered_mib(compose, "mem_limit: ");
    const std::uint64_t xmx = rendered_mib(compose, "-Xmx");
    CHECK(limit * k_mib == instance.memory);
    CHECK(xmx == limit * 3 / 4);
    CHECK(run.sh("docker inspect -f '{{.HostConfig.Memory}}' " + run.app(instance)) ==
          fmt::format("{}\n", limit * k_mib));
    // What the JVM that startup.sh started with JAVA_ARGS really got (-XX:+PrintFlagsFinal).
    const std::string heap =
        run.sh("docker exec " + run.app(instance) + " cat /www/squash/max-heap");
    CHECK(heap == fmt::format("{}\n", xmx * k_mib));
    CHECK(run.sh("docker exec " + run.app(instance) + " cat /www/squash/env-names") ==
          "JAVA_ARGS\nTZ\n");
  }
  CHECK(run.vm.instances[0].memory == 768 * k_mib);   // squashtm.memory: 576 MiB of heap
  CHECK(run.vm.instances[1].memory == 1024 * k_mib);  // its own memory: 768 MiB of heap
}

TEST_CASE("lab switches squashtm.proxy and squashtm.autoheal on real Docker with the stand-ins",
          "[docker]") {
  StandinRun run(
      "squashtm: {proxy: true, autoheal: true}\ntemplate:\n  vms:\n    vm1:\n      memory: 4GiB\n"
      "      instances:\n        - {name: main, version: 6.0.0, db: h2, port: 18183}\n"
      "        - {name: legacy, version: 5.1.0, db: h2, port: 18184}\n");
  if (const std::string why = run.docker_missing(); !why.empty()) {
    WARN("SKIPPED: " << why << " (provision/bootstrap --with-test-tools starts it)");
    return;
  }
  REQUIRE(run.options.proxy);
  REQUIRE(run.options.autoheal);
  run.build("5.1.0 6.0.0");
  Lifecycle stack(run.remote, run.owner, run.vm, run.options);
  REQUIRE(stack.deploy(run.vm.instances, {}).ok());
  REQUIRE(labctl::testing::wait_healthy(18183, "version 6.0.0").healthy);
  REQUIRE(labctl::testing::wait_healthy(18184, "version 5.1.0").healthy);

  SECTION("the proxy routes <instance>.<VM host name> to each instance") {
    auto through_proxy = [&](const std::string& host) {
      return run.sh(
          fmt::format("curl -s -H 'Host: {}' http://127.0.0.1:18180/squash/isSquashAlive", host));
    };
    std::string answer;
    for (int i = 0; i < 40 && answer.empty(); ++i, std::this_thread::sleep_for(250ms)) {
      answer = through_proxy("main." + run.vm.hostname);
    }
    CHECK(answer == "Squash is Alive! version 6.0.0\n");
    CHECK(through_proxy("legacy." + run.vm.hostname) == "Squash is Alive! version 5.1.0\n");
    CHECK(run.sh("curl -s -o /dev/null -w '%{http_code}' -H 'Host: nobody.example' "
                 "http://127.0.0.1:18180/") == "404");
  }
  SECTION("autoheal restarts an unhealthy labelled instance, and only that one") {
    const auto& main = run.vm.instances[0];
    const auto& legacy = run.vm.instances[1];
    auto started = [&](const auto& instance) {
      return run.sh("docker inspect -f '{{.State.StartedAt}}' " + run.app(instance));
    };
    const std::string main_before = started(main);
    const std::string legacy_before = started(legacy);
    // The health check now fails (5 retries, 1 s apart); a restart writes the page again.
    run.sh("docker exec " + run.app(main) + " rm /www/squash/isSquashAlive");
    std::string main_after = main_before;
    for (int i = 0; i < 90 && main_after == main_before; ++i) {
      std::this_thread::sleep_for(500ms);
      main_after = started(main);
    }
    CHECK(main_after != main_before);
    CHECK(labctl::testing::wait_healthy(18183, "version 6.0.0").healthy);
    CHECK(started(legacy) == legacy_before);
  }
}
