#include "provision/registry/lab_images.hpp"

#include <catch2/catch.hpp>

#include "tests/support/labs.hpp"

namespace labctl::registry {

TEST_CASE("the images a lab needs, and who uses each", "[unit]") {
  model::Lab lab = testing::small_lab("lct", 2, 1);
  for (model::Team& team : lab.teams) {
    model::Instance main{"main", "6.0.0", 8081};
    main.image = "squashtest/squash-tm";
    main.version_site = {"lab.yaml", 12, 30, "template.vms.vm1.instances[0].version"};
    model::Instance old{"old", "1.22.2", 8082, model::DbKind::mariadb};
    old.image = "squashtest/squash-tm";
    team.vms[0].instances = {main, old};
  }
  LabImageOptions options;
  options.teams = {"team2"};
  options.proxy = true;
  auto uses = lab_images(lab, options);
  REQUIRE(uses.ok());
  std::vector<std::string> names;
  for (const ImageUse& use : *uses) {
    names.push_back(use.ref.name());
  }
  CHECK(names == std::vector<std::string>{"squashtest/squash-tm:6.0.0", "library/postgres:15",
                                          "squashtest/squash-tm:1.22.2", "library/mariadb:10.11",
                                          "library/nginx:1.25-alpine"});
  CHECK((*uses)[1].users == std::vector<std::string>{"team2/vm1/main"});
  REQUIRE((*uses)[0].sites.size() == 1);
  CHECK((*uses)[0].sites[0].key == "template.vms.vm1.instances[0].version");
  CHECK((*uses)[2].sites.empty());  // no position known for it

  SECTION("every team: one entry per image, each user listed, each site once") {
    auto all = lab_images(lab);
    REQUIRE(all.ok());
    CHECK(all->size() == 4);
    CHECK((*all)[0].users == std::vector<std::string>{"team1/vm1/main", "team2/vm1/main"});
    CHECK((*all)[0].sites.size() == 1);
  }
}

}  // namespace labctl::registry
