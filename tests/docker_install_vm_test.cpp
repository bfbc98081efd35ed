#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/golden.hpp"
#include "tests/support/labctl_cli.hpp"
#include "tests/support/leftovers.hpp"

// Docker installed at boot, for real: an image built without Docker (`image.with` empty) and
// `docker.source: distribution`. cloud-init's final stage configures apt (the image's mirror
// kept) and installs docker.io and docker-compose from the Debian mirror through the NAT
// network; the admin user is in the docker group; the stand-in stack then runs on that Docker.
// (Docker's own repository, the default source, is not reachable from this machine.) The
// stack comes as `up --standin` brings it on a machine without Docker Hub: stand-in images
// built on this host, pushed to the stand-in registry, pulled through the classroom registry.

namespace {

using labctl::testing::DownOnExit;
using labctl::testing::LabctlCli;

std::string lab_text(const std::string& classroom, int registry_octet, int registry_port) {
  return fmt::format(R"(classroom: {}
image: {{ build: debian-12 }}
docker: {{ source: distribution }}
registry: {{ address: 10.255.{}.1, port: {} }}
defaults: {{ memory: 2GiB, vcpus: 2, disk: 4GiB }}
teams: {{ names: [blue] }}
template:
  networks:
    lan: {{ kind: nat, bridge_name: "{{classroom}}{{team_index}}{{net}}" }}
  vms:
    vm1:
      instances:
        - {{ name: main, version: 6.0.0, db: h2 }}
)",
                     classroom, registry_octet, registry_port);
}

std::string must_ssh(const LabctlCli& labctl, const std::vector<std::string>& command) {
  std::vector<std::string> args{"ssh", "blue", "vm1", "--"};
  args.insert(args.end(), command.begin(), command.end());
  const auto result = labctl.run(args);
  INFO(result.out << result.err);
  REQUIRE(result.exit_code == 0);
  return result.out;
}

}  // namespace

TEST_CASE("Docker from Debian's packages, installed by cloud-init at first boot",
          "[vm][docker-install]") {
  labctl::testing::ScratchDir scratch("lct-dockerinst");
  const std::string classroom = labctl::testing::unique_classroom("din");
  std::random_device random;  // a registry of the test's own, beside any other on the host
  std::ofstream(scratch.path() / "lab.yaml")
      << lab_text(classroom, 1 + static_cast<int>(random() % 250),
                  20000 + 2 * static_cast<int>(random() % 4000));
  // Versions are resolved on the lab's registries, not on the closed port tests default to.
  const LabctlCli labctl(scratch.path(),
                         {.global_args = {"--connect", "qemu:///system"},
                          .env = {{"LABCTL_REGISTRY", ""}, {"LABCTL_UPSTREAM", ""}}});
  DownOnExit teardown{labctl};

  const auto up = labctl.run({"up", "--all", "--standin"});
  INFO(up.out);
  REQUIRE(up.exit_code == 0);

  // Installed from the mirror at boot, not baked in: dpkg's own log says when.
  CHECK(must_ssh(labctl, {"dpkg-query", "-W", "-f", "'${Status}'", "docker.io"}) ==
        "install ok installed");
  CHECK(must_ssh(labctl, {"grep", "' install docker.io:'", "/var/log/dpkg.log"})
            .find(" install docker.io:amd64 ") != std::string::npos);
  CHECK(must_ssh(labctl, {"docker-compose", "version", "--short"}).rfind("1.", 0) == 0);
  // The image's sources.list is kept (preserve_sources_list): only the build's mirror.
  CHECK(must_ssh(labctl, {"cat", "/etc/apt/sources.list"}) ==
        "deb http://deb.debian.org/debian bookworm main\n");
  // The admin user talks to Docker without sudo (the docker group).
  CHECK(must_ssh(labctl, {"docker", "info", "--format", "'{{.ServerVersion}}'"}).size() > 2);
  CHECK(must_ssh(labctl, {"cloud-init", "status"}).find("status: done") != std::string::npos);

  const auto status = labctl.run({"status", "--json"});
  REQUIRE(status.exit_code == 0);
  const auto rows = nlohmann::json::parse(status.out);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0]["stage"] == "stack healthy");
  CHECK(rows[0]["instances"][0]["healthy"] == true);
  // The VM pulled the stand-in through the classroom registry, which fetched it from the
  // stand-in registry: the real name, the stand-in's label.
  CHECK(must_ssh(labctl, {"docker", "image", "inspect", "-f",
                          "'{{index .Config.Labels \"labctl.standin\"}}'",
                          "squashtest/squash-tm:6.0.0"}) == "true\n");

  labctl::testing::check_down_leaves_nothing(labctl, teardown, "qemu:///system", classroom);
}
