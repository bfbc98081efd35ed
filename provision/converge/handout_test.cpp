#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "provision/converge/handout_render.hpp"
#include "provision/model/loader.hpp"
#include "tests/support/golden.hpp"
#include "tests/support/labs.hpp"

using namespace labctl;

namespace {

model::Lab classroom() {
  return testing::example_lab("classroom.yaml");
}

converge::HandoutInputs inputs_for(std::vector<std::string> teams) {
  converge::HandoutInputs inputs;
  inputs.teams = std::move(teams);
  return inputs;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Fixed, fake key material: the golden files must not change from run to run.
converge::TeamSecrets fake_secrets(const converge::HandoutTeam& team) {
  converge::TeamSecrets secrets{
      "-----BEGIN OPENSSH PRIVATE KEY-----\nTeam3KeyForTestsOnly\n"
      "-----END OPENSSH PRIVATE KEY-----\n",
      {}};
  for (const converge::HandoutVm& vm : team.vms) {
    secrets.host_keys[vm.key] = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHost" + vm.key + " " + vm.key;
  }
  return secrets;
}

}  // namespace

TEST_CASE("the hand-out of classroom team3", "[golden][cli]") {
  const model::Lab lab = classroom();
  const converge::Handout handout = converge::handout_of(lab, inputs_for({"team3"}));
  testing::check_golden("handout/classroom-team3.md",
                        converge::render_handout(handout, converge::HandoutFormat::markdown));
  testing::check_golden("handout/classroom-team3.html",
                        converge::render_handout(handout, converge::HandoutFormat::html));
  testing::check_golden("handout/classroom-team3.json",
                        converge::render_handout(handout, converge::HandoutFormat::json));
  const auto files = converge::handout_files(
      handout, handout.teams[0], converge::HandoutFormat::markdown, fake_secrets(handout.teams[0]));
  REQUIRE(files.size() == 4);
  CHECK(files[0].name == "handout.md");
  CHECK(files[1].name == "team3.key");
  CHECK(files[1].mode == 0600);
  testing::check_golden("handout/classroom-team3.ssh_config", files[2].content);
  testing::check_golden("handout/classroom-team3.known_hosts", files[3].content);
}

TEST_CASE("nothing on a hand-out names a path of the instructor's host", "[unit][cli]") {
  const model::Lab lab = classroom();
  const converge::Handout handout = converge::handout_of(lab, inputs_for({"team3"}));
  for (const auto format : {converge::HandoutFormat::markdown, converge::HandoutFormat::html,
                            converge::HandoutFormat::json}) {
    for (const auto& file : converge::handout_files(handout, handout.teams[0], format,
                                                    fake_secrets(handout.teams[0]))) {
      INFO(file.name);
      CHECK(file.name.find('/') == std::string::npos);
      CHECK_FALSE(contains(file.content, "/state"));
      CHECK_FALSE(contains(file.content, "id_ed25519"));
      CHECK_FALSE(contains(file.content, ".local"));
      CHECK_FALSE(contains(file.content, "labctl ssh"));
    }
  }
}

TEST_CASE("a VM on a LAN's DHCP shows the address its guest reported", "[unit][cli]") {
  model::Lab lab = classroom();
  model::Vm& vm1 = lab.teams[2].vms[0];
  model::Nic campus;
  campus.key = "campus";
  campus.dhcp = true;
  vm1.nics.push_back(campus);
  converge::HandoutInputs inputs = inputs_for({"team3"});
  CHECK(converge::handout_of(lab, inputs).teams[0].vms[0].networks.back() ==
        std::pair<std::string, std::string>{"campus", "-"});
  inputs.state.record_addresses(vm1, {{"campus", "192.168.77.50"}});
  CHECK(converge::handout_of(lab, inputs).teams[0].vms[0].networks.back() ==
        std::pair<std::string, std::string>{"campus", "192.168.77.50"});
}

TEST_CASE("the hand-out follows the model and state.json", "[unit][cli]") {
  const model::Lab lab = classroom();
  converge::HandoutInputs inputs = inputs_for({"team3"});

  SECTION("every VM with its address, both SSH forms and each instance's URL") {
    const converge::Handout handout = converge::handout_of(lab, inputs);
    REQUIRE(handout.teams.size() == 1);
    const converge::HandoutTeam& team = handout.teams.front();
    CHECK(team.name == "team3");
    REQUIRE(team.vms.size() == 4);
    const converge::HandoutVm& vm1 = team.vms.front();
    CHECK(vm1.key == "vm1");
    // The lab publishes (`access:`): the student's host and ports, not the VM's address.
    CHECK(vm1.address == "lab-server.school.lan");
    CHECK(vm1.ssh_port == 20301);
    CHECK(vm1.ssh_config == "ssh -F ssh_config vm1");
    CHECK(vm1.ssh_plain ==
          "ssh -i team3.key -o UserKnownHostsFile=known_hosts -p 20301 "
          "student@lab-server.school.lan");
    REQUIRE(vm1.instances.size() == 1);
    CHECK(vm1.instances[0].name == "main");
    CHECK(vm1.instances[0].url == "http://lab-server.school.lan:20311/squash");
    const converge::HandoutVm& vm2 = team.vms[1];
    REQUIRE(vm2.instances.size() == 1);
    CHECK(vm2.instances[0].name == "legacy");
    CHECK(vm2.instances[0].version == "5.1.0");
    CHECK(vm2.instances[0].url == "http://lab-server.school.lan:20312/squash");
  }
  SECTION("instances added and removed during class") {
    const model::Vm& vm2 = lab.find_team("team3")->vms[1];
    model::Instance extra;
    extra.name = "exam";
    extra.version = "6.1.0";
    extra.port = 8083;
    inputs.state.record_added(vm2, extra);
    inputs.state.record_removed(vm2, "legacy");
    const converge::Handout handout = converge::handout_of(lab, inputs);
    const auto& instances = handout.teams.front().vms[1].instances;
    REQUIRE(instances.size() == 1);
    CHECK(instances[0].name == "exam");
    CHECK(instances[0].url == "http://lab-server.school.lan:20332/squash");
  }
  SECTION("--all keeps the lab's team order") {
    const converge::Handout handout = converge::handout_of(lab, inputs_for({"team4", "team1"}));
    REQUIRE(handout.teams.size() == 2);
    CHECK(handout.teams[0].name == "team1");
    CHECK(handout.teams[1].name == "team4");
  }
}

TEST_CASE("the hand-out shows DB passwords only when given", "[unit][cli]") {
  const model::Lab lab = classroom();
  converge::HandoutInputs inputs = inputs_for({"team3"});
  const std::string md = converge::render_markdown(converge::handout_of(lab, inputs));
  CHECK_FALSE(contains(md, "password |"));
  CHECK_FALSE(contains(converge::render_json(converge::handout_of(lab, inputs)), "db_password"));
  CHECK(contains(md, "**admin / admin**"));
  CHECK(contains(md, "change it at first login"));

  inputs.secrets =
      std::map<std::string, squashtm::Secrets>{{"cd26-team3-vm1", {{"main", "S3cretMain"}}},
                                               {"cd26-team3-vm2", {{"legacy", "S3cretLegacy"}}},
                                               {"cd26-team3-vm4", {{"main", "NotShownForH2"}}}};
  const converge::Handout handout = converge::handout_of(lab, inputs);
  CHECK(handout.teams[0].vms[0].instances[0].db_password == "S3cretMain");
  CHECK(handout.teams[0].vms[3].instances[0].db_password.empty());  // h2: no database server
  const std::string with = converge::render_markdown(handout);
  CHECK(contains(with, "| DB password |"));
  CHECK(contains(with, "`S3cretLegacy`"));
  CHECK_FALSE(contains(with, "NotShownForH2"));
  const auto json = nlohmann::json::parse(converge::render_json(handout));
  CHECK(json["teams"][0]["vms"][0]["instances"][0]["db_password"] == "S3cretMain");
  CHECK(json["login"]["user"] == "admin");
  CHECK(json["login"]["password"] == "admin");
}

TEST_CASE("the HTML hand-out escapes every value", "[unit][cli]") {
  CHECK(converge::html_escape(R"(<a href="x">'&'</a>)") ==
        "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  model::Lab lab = classroom();
  lab.title = "CD <script>alert('x')</script> & co";
  converge::HandoutInputs inputs = inputs_for({"team3"});
  inputs.secrets =
      std::map<std::string, squashtm::Secrets>{{"cd26-team3-vm1", {{"main", "a<b&c"}}}};
  const std::string html = converge::render_html(converge::handout_of(lab, inputs));
  CHECK_FALSE(contains(html, "<script>"));
  CHECK_FALSE(contains(html, "a<b&c"));
  CHECK(contains(html,
                 "<h1>CD &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co: team3</h1>"));
  CHECK(contains(html, "<code>ssh -F ssh_config vm1</code>"));
  CHECK(contains(html, "<code>a&lt;b&amp;c</code>"));
  CHECK(contains(html, "<strong>admin / admin</strong>"));
}
