#include "stacks/squashtm/render.hpp"

#include <yaml-cpp/yaml.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "stacks/squashtm/inspect.hpp"
#include "stacks/squashtm/names.hpp"
#include "stacks/squashtm/remote.hpp"
#include "stacks/squashtm/secrets.hpp"
#include "stacks/squashtm/yaml_out.hpp"
#include "tests/support/golden.hpp"
#include "tests/support/squashtm.hpp"
#include "tests/support/yaml_read_back.hpp"

using namespace labctl::squashtm;
using labctl::model::DbKind;
using labctl::model::EnvScheme;

using labctl::testing::check_reads_back;

namespace {

std::string joined(const Rendered& rendered) {
  std::string out;
  for (const File& file : rendered.files) {
    out += "==> " + file.path + " (mode " + std::to_string(file.mode / 64) +
           std::to_string(file.mode / 8 % 8) + std::to_string(file.mode % 8) + ")\n" + file.content;
  }
  out += "==> commands\n";
  for (const std::string& command : rendered.commands) {
    out += command + "\n";
  }
  return out;
}

}  // namespace

TEST_CASE("Squash TM stack renders to golden files", "[golden]") {
  auto vm = labctl::testing::stack_vm(3 * labctl::model::k_gib);
  vm.instances = {labctl::testing::stack_instance("main", "6.0.0", 8081),
                  labctl::testing::stack_instance("old", "1.21.0", 8082)};
  vm.instances[1].memory = 768 * labctl::model::k_mib;  // a lowered instance: 576 MiB of heap
  const Secrets secrets{{"main", "PwMain0123456789"}, {"old", "PwOld0123456789"}};
  StackOptions options;
  options.shared.http_proxy = "http://10.0.0.1:3128";
  options.shared.java_extra_opts = "-Duser.language=fr";

  SECTION("current and 1.x instances on postgres, no proxy") {
    auto r = render_stack(labctl::testing::stack_owner(), vm, options, secrets);
    REQUIRE(r.ok());
    labctl::testing::check_golden("squashtm/postgres-current-and-legacy.txt", joined(*r));
  }
  SECTION("h2 instance and mariadb, with proxy and autoheal") {
    vm.instances = {labctl::testing::stack_instance("demo", "6.1.0", 8081, DbKind::h2),
                    labctl::testing::stack_instance("maria", "1.21.0", 8082, DbKind::mariadb)};
    options.proxy = true;
    options.autoheal = true;
    auto r =
        render_stack(labctl::testing::stack_owner(), vm, options, {{"maria", "PwMaria0123456789"}});
    REQUIRE(r.ok());
    labctl::testing::check_golden("squashtm/h2-mariadb-proxy-autoheal.txt", joined(*r));
  }
}

TEST_CASE("Squash TM compose files: hostile values read back as themselves, '$' doubled",
          "[unit]") {
  CHECK(no_interpolation("a$b $$ ${X}") == "a$$b $$$$ $${X}");
  // The compose file of an instance, the proxy's and autoheal's: the value in every field that
  // is not checked before rendering (owner, image, bind address).
  auto render_all = [](const std::string& value) {
    const Owner owner{value, value, value};
    auto instance =
        labctl::testing::stack_instance("main", "6.0.0", 8081, DbKind::postgresql, value);
    StackOptions options;
    options.bind_address = value;
    options.postgres_image = value;
    auto vm = labctl::testing::stack_vm();
    vm.instances = {instance};
    return std::vector<std::string>{render_compose(owner, instance, options),
                                    render_proxy(owner, vm, options).files[1].content,
                                    render_autoheal(owner, options).files[0].content};
  };
  const auto benign = render_all("benign");
  for (const std::string& value : labctl::testing::hostile_values()) {
    if (value.empty()) {
      continue;  // no bind address: another port mapping, in the golden files
    }
    INFO("value: " << nlohmann::json(value).dump());
    const auto texts = render_all(value);
    const std::string expected = no_interpolation(value);  // what compose reads as `value`
    for (std::size_t i = 0; i < texts.size(); ++i) {
      CHECK(labctl::testing::shape_of(texts[i]) == labctl::testing::shape_of(benign[i]));
    }
    const YAML::Node compose = YAML::Load(texts[0]);
    const YAML::Node app = compose["services"]["app"];
    check_reads_back(app["image"], expected + ":6.0.0");
    check_reads_back(app["ports"][0], expected + ":8081:8080");
    check_reads_back(app["labels"]["labctl.image"], expected);
    check_reads_back(compose["services"]["db"]["image"], expected);
    const YAML::Node proxy = YAML::Load(texts[1])["services"]["proxy"];
    check_reads_back(proxy["ports"][0], expected + ":80:80");
    for (const YAML::Node& map :
         {app["labels"], compose["services"]["db"]["labels"],
          compose["networks"]["frontend"]["labels"], compose["volumes"]["db-data"]["labels"],
          proxy["labels"], YAML::Load(texts[2])["services"]["autoheal"]["labels"]}) {
      for (const char* key : {"labctl.classroom", "labctl.team", "labctl.vm"}) {
        check_reads_back(map[key], expected);
      }
    }
  }
}

TEST_CASE("Squash TM renderer refuses what cannot run", "[unit]") {
  auto vm = labctl::testing::stack_vm();
  SECTION("more instances than the VM's memory holds, with the numbers") {
    vm.instances = {labctl::testing::stack_instance("a", "6.0.0", 8081),
                    labctl::testing::stack_instance("b", "6.0.0", 8082),
                    labctl::testing::stack_instance("c", "6.0.0", 8083)};
    auto r =
        render_stack(labctl::testing::stack_owner(), vm, {}, {{"a", "x"}, {"b", "x"}, {"c", "x"}});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message ==
          "cd26-team3-vm1: 3 Squash TM instance(s) need more than the VM's 2GiB: 256MiB guest + "
          "128MiB Docker + 1GiB a + 128MiB a's database + 1GiB b + 128MiB b's database + 1GiB c "
          "+ 128MiB c's database = 3840MiB");
  }
  SECTION("two instances on one port or one name") {
    vm.instances = {labctl::testing::stack_instance("a", "6.0.0", 8081),
                    labctl::testing::stack_instance("b", "6.0.0", 8081)};
    auto r = render_stack(labctl::testing::stack_owner(), vm, {}, {{"a", "x"}, {"b", "x"}});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message == "port 8081 is used twice (instance 'b')");
  }
  SECTION("a bad version, name or missing password") {
    auto bad_version =
        render_instance(labctl::testing::stack_owner(),
                        labctl::testing::stack_instance("a", "latest", 8081), {}, "x");
    REQUIRE_FALSE(bad_version.ok());
    CHECK(bad_version.error().message ==
          "unknown Squash TM version format 'latest' (expected e.g. 6.0.0, 1.21.0 or "
          "1.21.0.RELEASE)");
    auto bad_name =
        render_instance(labctl::testing::stack_owner(),
                        labctl::testing::stack_instance("A;rm", "6.0.0", 8081), {}, "x");
    REQUIRE_FALSE(bad_name.ok());
    CHECK(bad_name.error().message.find("bad instance name 'A;rm'") == 0);
    auto no_password = render_instance(labctl::testing::stack_owner(),
                                       labctl::testing::stack_instance("a", "6.0.0", 8081), {}, "");
    REQUIRE_FALSE(no_password.ok());
    CHECK(no_password.error().message == "instance 'a': no database password");
  }
}

TEST_CASE("Squash TM versions, schemes, quoting and passwords", "[unit]") {
  SECTION("versions parse and order numerically") {
    CHECK(parse_version("6.0.0")->compare(*parse_version("10.0.0")) < 0);
    CHECK(parse_version("1.21.0.RELEASE")->compare(*parse_version("1.21.0")) == 0);
    CHECK(parse_version("1.9")->major() == 1);
    CHECK_FALSE(parse_version("6").ok());
    CHECK_FALSE(parse_version("6.0.0; rm -rf /").ok());
  }
  SECTION("automatic scheme is legacy below 2.0, an explicit one wins") {
    auto old = labctl::testing::stack_instance("o", "1.22.2", 8081);
    CHECK(effective_scheme(old) == EnvScheme::legacy);
    CHECK(effective_scheme(labctl::testing::stack_instance("n", "2.0.0", 8081)) ==
          EnvScheme::current);
    old.env = EnvScheme::current;
    CHECK(effective_scheme(old) == EnvScheme::current);
  }
  SECTION("sh_quote makes one word of anything") {
    CHECK(sh_quote("plain") == "'plain'");
    CHECK(sh_quote("it's $(x)") == "'it'\\''s $(x)'");
  }
  SECTION("passwords are random alphanumerics") {
    auto a = generate_password();
    auto b = generate_password();
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    CHECK(a->size() == 24);
    CHECK(*a != *b);
    CHECK(a->find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") ==
          std::string::npos);
  }
}

TEST_CASE("Squash TM ls reads docker inspect output back into instances", "[unit]") {
  const std::string json = R"([{"Id":"abc","RestartCount":2,
    "State":{"Status":"running","StartedAt":"2025-01-01T10:00:00.5Z","Health":{"Status":"healthy"}},
    "Config":{"Labels":{"labctl.instance":"main","labctl.version":"6.0.0","labctl.port":"8081",
      "labctl.db":"h2","labctl.env":"legacy","labctl.memory":"268435456","labctl.image":"r/s"}}}])";
  const auto now = std::chrono::system_clock::from_time_t(1735725600 + 90);  // 10:01:30 UTC
  auto list = parse_inspect(json, now);
  REQUIRE(list.ok());
  REQUIRE(list->size() == 1);
  const InstanceStatus& s = list->front();
  CHECK(s.instance.name == "main");
  CHECK(s.instance.version == "6.0.0");
  CHECK(s.instance.port == 8081);
  CHECK(s.instance.db == DbKind::h2);
  CHECK(s.instance.env == EnvScheme::legacy);
  CHECK(s.instance.memory == 256 * labctl::model::k_mib);
  CHECK(s.instance.image == "r/s");
  CHECK(s.health == "healthy");
  CHECK(s.restarts == 2);
  CHECK(s.uptime == std::chrono::seconds(90));
  CHECK_FALSE(parse_inspect("not json", now).ok());
}

TEST_CASE("LocalRemote writes only under its root, with the file's mode", "[unit]") {
  labctl::testing::ScratchDir scratch("lct-squash-remote");
  labctl::sys::SystemRunner runner;
  LocalRemote remote(runner, scratch.path());
  CHECK_FALSE(remote.put_file("/etc/labctl-should-not-exist", "x", 0644).ok());
  CHECK_FALSE(remote.put_file((scratch.path() / "../escape").string(), "x", 0644).ok());
  const std::string path = (scratch.path() / "a/b/.env").string();
  REQUIRE(remote.put_file(path, "SECRET=1\n", 0600).ok());
  CHECK(labctl::testing::read_file(path) == "SECRET=1\n");
  CHECK((std::filesystem::status(path).permissions() & std::filesystem::perms::all) ==
        (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
  auto r = remote.exec("echo $((1+2)); exit 4");
  REQUIRE(r.ok());
  CHECK(r->out == "3\n");
  CHECK(r->exit_code == 4);
}
