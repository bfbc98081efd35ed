#include "cloud-init/render.hpp"

#include <yaml-cpp/yaml.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "provision/sys/process.hpp"
#include "tests/support/golden.hpp"
#include "tests/support/labs.hpp"
#include "tests/support/yaml_read_back.hpp"

using labctl::model::DockerSource;
namespace ci = labctl::cloudinit;
using labctl::testing::check_golden;
using labctl::testing::check_reads_back;
using labctl::testing::hostile_values;
using labctl::testing::lab_from_yaml;
using labctl::testing::seed_inputs;
using labctl::testing::seed_lab;
using labctl::testing::shape_of;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The Squash TM stack's kind of additions: a file the admin user owns, a root file with
// content that cannot be a literal block, and commands.
ci::SeedInputs inputs_with_extras() {
  ci::SeedInputs in = seed_inputs();
  in.files = {{"/opt/squash/main/compose.yml", "services:\n  app:\n    image: squash\n", "0640",
               "student:student"},
              {"/etc/labctl/token", "no trailing newline: \"quoted\"", "0600", "root:root"}};
  in.runcmd = {"cd /opt/squash/main && docker-compose -p squash-main up -d"};
  in.phone_home_url = "http://10.61.1.1:8470/ready/$INSTANCE_ID";
  in.generation = 2;
  return in;
}

// seed_lab's vm1: on "lan" (nat, the default route) and "back" (isolated).
labctl::model::Vm seed_vm() {
  return seed_lab(DockerSource::repository).teams[0].vms[0];
}

// The value in every field of the VM's first NIC, its name and its host name.
labctl::model::Vm hostile_vm(const std::string& value) {
  auto vm = seed_vm();
  vm.name = value;
  vm.hostname = value;
  labctl::model::Nic& nic = vm.nics[0];
  nic.mac = value;
  nic.ip = value;
  nic.gateway = value;
  nic.dns = {value};
  return vm;
}

// The value in every key, file field and command, and the phone-home URL.
ci::SeedInputs hostile_inputs(const std::string& value) {
  ci::SeedInputs in = seed_inputs();
  in.admin_public_key = value;
  in.team_public_key = value;
  in.host_private_key = value;
  in.host_public_key = value;
  in.docker_apt_key = value;
  in.files = {{value, value, value, value}};
  in.runcmd = {value};
  in.phone_home_url = value;
  return in;
}

}  // namespace

TEST_CASE("hostile values read back as themselves and never change a document's shape", "[unit]") {
  auto render = [](const std::string& value) {
    auto lab = seed_lab(DockerSource::repository);
    lab.admin_user = value;
    lab.docker.apt_proxy = value;
    return ci::user_data(lab, hostile_vm(value), hostile_inputs(value));
  };
  const auto shape = shape_of(render("benign"));
  for (const std::string& value : hostile_values()) {
    if (value.empty()) {
      continue;  // no key, proxy, URL or address: a document without them, tested elsewhere
    }
    INFO("value: " << nlohmann::json(value).dump());
    const auto vm = hostile_vm(value);
    const std::string text = render(value);
    CHECK(text.rfind("#cloud-config\n", 0) == 0);
    CHECK(shape_of(text) == shape);
    const YAML::Node doc = YAML::Load(text);
    for (const YAML::Node& node :
         {doc["hostname"], doc["users"][0]["name"], doc["users"][0]["ssh_authorized_keys"][0],
          doc["users"][0]["ssh_authorized_keys"][1], doc["ssh_keys"]["ed25519_private"],
          doc["ssh_keys"]["ed25519_public"], doc["apt"]["proxy"],
          doc["apt"]["sources"]["docker.list"]["key"], doc["write_files"][1]["path"],
          doc["write_files"][1]["owner"], doc["write_files"][1]["permissions"],
          doc["write_files"][1]["content"], doc["runcmd"][1], doc["phone_home"]["url"]}) {
      check_reads_back(node, value);
    }
    const YAML::Node eth0 = YAML::Load(ci::network_config(vm))["ethernets"]["eth0"];
    CHECK(shape_of(ci::network_config(vm)) == shape_of(ci::network_config(hostile_vm("x"))));
    check_reads_back(eth0["match"]["macaddress"], value);
    check_reads_back(eth0["addresses"][0], value + "/24");
    check_reads_back(eth0["routes"][0]["via"], value);
    check_reads_back(eth0["nameservers"]["addresses"][0], value);
    const YAML::Node meta = YAML::Load(ci::meta_data(seed_lab(DockerSource::repository), vm));
    CHECK(meta.size() == 2);
    check_reads_back(meta["instance-id"], ci::instance_id(vm, 0));
    check_reads_back(meta["local-hostname"], value);
  }
}

TEST_CASE("meta-data names the instance and the host", "[golden]") {
  const auto lab = seed_lab(DockerSource::repository);
  const auto& vm = lab.teams[0].vms[0];
  check_golden("cloud-init/meta-data", ci::meta_data(lab, vm));
  SECTION("reset bumps the generation and so the instance-id") {
    CHECK(ci::instance_id(vm, 0) == "cd26-team1-vm1-" + vm.spec_hash);
    CHECK(ci::instance_id(vm, 3) == "cd26-team1-vm1-" + vm.spec_hash + "-3");
    CHECK(contains(ci::meta_data(lab, vm, 3),
                   "instance-id: \"cd26-team1-vm1-" + vm.spec_hash + "-3\"\n"));
    CHECK(ci::ready_line(vm, 3) == "labctl-ready cd26-team1-vm1-" + vm.spec_hash + "-3");
  }
}

TEST_CASE("network-config gives each NIC its static address by MAC", "[golden]") {
  const auto vm = seed_vm();
  const std::string text = ci::network_config(vm);
  check_golden("cloud-init/network-config", text);
  CHECK_FALSE(contains(text, "dhcp4: true"));
  SECTION("only the NIC with a gateway gets the default route and DNS") {
    CHECK(text.find("via:") == text.rfind("via:"));
    CHECK(text.find("\"0.0.0.0/0\"") < text.find("eth1:"));
    CHECK(text.find("nameservers:") < text.find("eth1:"));
  }
}

TEST_CASE("network-config: a bridge NIC takes the LAN's DHCP, or its subnet's static address",
          "[golden]") {
  const auto lab = lab_from_yaml(R"(classroom: cd26
image: { build: debian-12 }
teams: { count: 1 }
template:
  networks:
    lan: { kind: nat, subnet: "10.61.{team_index}.0/24" }
    campus: { kind: bridge, bridge: br0 }
    lab: { kind: bridge, bridge: br1, subnet: 192.168.77.0/24 }
  vms:
    vm1: {}
)");
  const auto& vm = lab.teams[0].vms[0];
  const std::string text = ci::network_config(vm);
  check_golden("cloud-init/network-config-bridge", text);
  CHECK(text.find("dhcp4: true") > text.find("eth1:"));
  CHECK(text.find("dhcp4: true") < text.find("eth2:"));
  CHECK(text.find("dhcp4: true") == text.rfind("dhcp4: true"));
  CHECK(text.find("via:") == text.rfind("via:"));
}

TEST_CASE("user-data installs Docker the way the lab asks", "[golden]") {
  const auto inputs = seed_inputs();
  SECTION("repository") {
    const auto lab = seed_lab(DockerSource::repository);
    const auto text = ci::user_data(lab, lab.teams[0].vms[0], inputs);
    check_golden("cloud-init/user-data-repository", text);
    CHECK(text.rfind("#cloud-config\n", 0) == 0);
    CHECK(contains(text, "  - docker-compose-plugin\n"));
    CHECK(contains(text, "      keyid: 9DC858229FC7DD38854AE2D88D81803C0EBFCD88\n"));
  }
  SECTION("repository with an inline signing key") {
    auto lab = seed_lab(DockerSource::repository);
    auto with_key = inputs;
    with_key.docker_apt_key = "-----BEGIN PGP PUBLIC KEY BLOCK-----\nxyz\n-----END PGP";
    with_key.docker_apt_key += " PUBLIC KEY BLOCK-----\n";
    const auto text = ci::user_data(lab, lab.teams[0].vms[0], with_key);
    CHECK(contains(text, "      key: |\n        -----BEGIN PGP PUBLIC KEY BLOCK-----\n"));
    CHECK_FALSE(contains(text, "keyid:"));
  }
  SECTION("distribution") {
    const auto lab = seed_lab(DockerSource::distribution);
    const auto text = ci::user_data(lab, lab.teams[0].vms[0], inputs);
    check_golden("cloud-init/user-data-distribution", text);
    CHECK(contains(text, "packages:\n  - docker.io\n  - docker-compose\n"));
    CHECK_FALSE(contains(text, "apt:"));
  }
  SECTION("preinstalled: no apt, no packages") {
    const auto lab = seed_lab(DockerSource::preinstalled);
    const auto text = ci::user_data(lab, lab.teams[0].vms[0], inputs);
    check_golden("cloud-init/user-data-preinstalled", text);
    CHECK_FALSE(contains(text, "packages:"));
    CHECK_FALSE(contains(text, "package_update"));
    CHECK_FALSE(contains(text, "apt:"));
  }
}

TEST_CASE("user-data carries proxy, mirror, extra files and commands", "[golden]") {
  auto lab = seed_lab(DockerSource::distribution);
  lab.docker.apt_proxy = "http://10.61.0.1:3142";
  lab.docker.registry_mirror = "http://10.61.0.1:5000";
  const auto text = ci::user_data(lab, lab.teams[0].vms[0], inputs_with_extras());
  check_golden("cloud-init/user-data-extras", text);
  SECTION("the mirror lands in daemon.json and docker reloads it before the stack's commands") {
    CHECK(contains(text, "apt:\n  proxy: \"http://10.61.0.1:3142\"\n"));
    CHECK(contains(text, "        \"registry-mirrors\": [\n          \"http://10.61.0.1:5000\"\n"));
    CHECK(text.find(ci::k_docker_reload) < text.find("docker-compose -p squash-main"));
  }
  SECTION("files owned by the admin user are deferred, root files are not") {
    const auto compose = text.find("/opt/squash/main/compose.yml");
    const auto token = text.find("/etc/labctl/token");
    CHECK(text.find("defer: true", compose) < token);
    CHECK(text.find("defer: true", token) == std::string::npos);
  }
  SECTION("the readiness line is the last command and names the generation") {
    CHECK(contains(text, "  - \"echo labctl-ready cd26-team1-vm1-" + lab.teams[0].vms[0].spec_hash +
                             "-2 > /dev/ttyS0\"\n"
                             "# cc_phone_home"));
  }
}

// PyYAML is what cloud-init parses user-data with: read the rendered documents back with it
// and compare values, so quoting mistakes show up as wrong types or strings.
TEST_CASE("PyYAML reads the rendered documents back to the intended values", "[unit]") {
  labctl::sys::SystemRunner runner;
  const std::string to_json =
      "import sys, json, yaml; print(json.dumps(yaml.safe_load(sys.stdin.read())))";
  if (!runner.run({"python3", "-c", "import yaml"}).ok() ||
      runner.run({"python3", "-c", "import yaml"})->exit_code != 0) {
    WARN("SKIPPED: python3-yaml is not installed");
    return;
  }
  auto parse = [&](const std::string& text) {
    auto out = labctl::sys::run_checked(runner, {"python3", "-c", to_json}, {.input = text});
    REQUIRE(out.ok());
    return nlohmann::json::parse(*out);
  };
  auto lab = seed_lab(DockerSource::repository);
  lab.docker.registry_mirror = "http://10.61.0.1:5000";
  const auto in = inputs_with_extras();
  const auto& vm = lab.teams[0].vms[0];
  const auto user = parse(ci::user_data(lab, vm, in));
  CHECK(user["users"][0]["sudo"] == "ALL=(ALL) NOPASSWD:ALL");
  CHECK(user["users"][0]["ssh_authorized_keys"][0] == in.admin_public_key);
  CHECK(user["users"][0]["ssh_authorized_keys"][1] == in.team_public_key);
  CHECK(user["users"][0]["ssh_authorized_keys"].size() == 2);
  CHECK(user["ssh_keys"]["ed25519_private"] == in.host_private_key);
  CHECK(user["ssh_genkeytypes"] == nlohmann::json::array({"ed25519"}));
  CHECK(user["ssh_pwauth"] == false);
  CHECK(user["write_files"][1]["permissions"] == "0640");
  CHECK(user["write_files"][1]["content"] == in.files[0].content);
  CHECK(user["write_files"][2]["content"] == in.files[1].content);
  CHECK(nlohmann::json::parse(user["write_files"][0]["content"].get<std::string>()) ==
        nlohmann::json({{"registry-mirrors", {"http://10.61.0.1:5000"}}}));
  CHECK(user["apt"]["sources"]["docker.list"]["keyid"] == ci::k_docker_key_fingerprint);
  CHECK(user["runcmd"].back() ==
        "echo labctl-ready cd26-team1-vm1-" + vm.spec_hash + "-2 > /dev/ttyS0");
  const auto net = parse(ci::network_config(vm));
  CHECK(net["version"] == 2);
  CHECK(net["ethernets"]["eth0"]["match"]["macaddress"] == "02:d7:52:01:01:00");
  CHECK(net["ethernets"]["eth0"]["routes"][0] ==
        nlohmann::json({{"to", "0.0.0.0/0"}, {"via", "10.61.1.1"}}));
  CHECK(net["ethernets"]["eth1"]["addresses"] == nlohmann::json({"10.62.1.11/24"}));
  CHECK(parse(ci::meta_data(lab, vm))["instance-id"] == "cd26-team1-vm1-" + vm.spec_hash);
}

TEST_CASE("the classroom registry is Docker's mirror, over plain HTTP", "[unit]") {
  auto lab = seed_lab(DockerSource::distribution);
  const auto& vm = lab.teams[0].vms[0];
  SECTION("by default: 10.255.255.1:5000, a mirror and an insecure registry") {
    const auto text = ci::user_data(lab, vm, {});
    CHECK(contains(text, "        \"insecure-registries\": [\n          \"10.255.255.1:5000\"\n"));
    CHECK(contains(text,
                   "        \"registry-mirrors\": [\n          \"http://10.255.255.1:5000\"\n"));
    CHECK(contains(text, "  - \"systemctl start docker && systemctl reload docker\"\n"));
  }
  SECTION("the lab's address and port") {
    lab.registry.address = "10.250.0.1";
    lab.registry.port = 5050;
    CHECK(contains(ci::user_data(lab, vm, {}), "\"http://10.250.0.1:5050\""));
  }
  SECTION("an outside mirror wins; disabled: no daemon.json at all") {
    lab.docker.registry_mirror = "http://mirror.school:5000";
    const auto text = ci::user_data(lab, vm, {});
    CHECK(contains(text, "\"http://mirror.school:5000\""));
    CHECK_FALSE(contains(text, "insecure-registries"));
    lab.docker.registry_mirror = "";
    lab.registry.enabled = false;
    CHECK_FALSE(contains(ci::user_data(lab, vm, {}), "daemon.json"));
  }
}
