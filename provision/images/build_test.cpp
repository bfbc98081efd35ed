#include <filesystem>
#include <iostream>

#include <catch2/catch.hpp>

#include "provision/images/images.hpp"
#include "tests/support/golden.hpp"

namespace labctl::images {
namespace fs = std::filesystem;
namespace {

// The real runner, recording every command it was asked to run.
class RecordingRunner : public sys::ProcessRunner {
 public:
  using sys::ProcessRunner::run;
  Result<sys::ProcessResult> run(const std::vector<std::string>& argv,
                                 const sys::ProcessOptions& options) override {
    commands.push_back(argv);
    return m_real.run(argv, options);
  }
  std::vector<std::vector<std::string>> commands;

 private:
  sys::SystemRunner m_real;
};

std::string debugfs(sys::ProcessRunner& runner, const std::string& request,
                    const std::string& disk) {
  auto result = runner.run({"debugfs", "-R", request, disk});
  REQUIRE(result.ok());
  return result->out;
}

}  // namespace

// Slow (a real debootstrap when the cache is cold): CI's VM tier runs it once and keeps the
// cache ($LABCTL_CACHE_DIR or ~/.cache/labctl) for later runs.
TEST_CASE("build the Docker base image", "[image][vm]") {
  model::Image image;
  image.name = "lct-images-debian-12-docker";
  image.build = "debian-12";
  image.with = {"docker"};
  BuildOptions options;
  options.log = [](const std::string& line) { std::cerr << line << "\n"; };
  RecordingRunner runner;

  auto paths = build_image(image, options, runner);
  REQUIRE(paths.ok());
  CHECK(paths->boot == model::BootMode::kernel);
  for (const auto& file : {paths->disk, paths->kernel, paths->initrd}) {
    INFO(file);
    CHECK(fs::file_size(file) > 1000000);
  }
  CHECK(fs::path(paths->kernel).filename() == "vmlinux");

  SECTION("a second build returns the cache at once") {
    RecordingRunner again;
    auto cached = build_image(image, options, again);
    REQUIRE(cached.ok());
    CHECK(cached->disk == paths->disk);
    CHECK(again.commands.empty());  // nothing rebuilt: no command at all
  }
  SECTION("the filesystem holds what labctl relies on") {
    labctl::testing::ScratchDir scratch("lct-images-check");
    const std::string raw = (scratch.path() / "disk.raw").string();
    REQUIRE(runner.run({"qemu-img", "convert", "-O", "raw", paths->disk, raw})->exit_code == 0);
    CHECK(runner.run({"blkid", "-o", "value", "-s", "LABEL", raw})->out == "root\n");
    CHECK(debugfs(runner, "ls /usr/sbin", raw).find("dockerd") != std::string::npos);  // docker.io
    CHECK(debugfs(runner, "ls /usr/bin", raw).find("docker ") != std::string::npos);
    CHECK(debugfs(runner, "ls /usr/bin", raw).find("docker-compose") != std::string::npos);
    CHECK(debugfs(runner, "ls /etc/ssh", raw).find("ssh_host_") == std::string::npos);
    CHECK(debugfs(runner, "ls /usr/sbin", raw).find("policy-rc.d") == std::string::npos);
    const std::string cfg = debugfs(runner, "cat /etc/cloud/cloud.cfg.d/90_labctl.cfg", raw);
    CHECK(cfg.find("datasource_list: [ NoCloud, None ]") != std::string::npos);
    // A seed's apt settings (Docker from apt when not baked in) add to the build's mirror.
    CHECK(cfg.find("  preserve_sources_list: true\n") != std::string::npos);
    CHECK(debugfs(runner, "cat /etc/cloud/cloud.cfg.d/91_labctl_fast.cfg", raw)
              .find("cloud_final_modules: [ apt-configure, package-update-upgrade-install,") !=
          std::string::npos);
    CHECK(debugfs(runner, "ls /usr/bin", raw).find("lsb_release") != std::string::npos);
    CHECK(debugfs(runner, "ls /usr/bin", raw).find("gpg ") != std::string::npos);
    CHECK(debugfs(runner, "ls /usr/bin", raw).find("dirmngr") != std::string::npos);
    CHECK(debugfs(runner, "cat /etc/cloud/cloud.cfg", raw).find("- locale\n") == std::string::npos);
    CHECK(debugfs(runner, "stat /etc/systemd/system/cloud-config.service", raw).find("/dev/null") !=
          std::string::npos);
    CHECK(debugfs(runner, "ls /etc/systemd/system/multi-user.target.wants", raw)
              .find("docker.service") != std::string::npos);
  }
}

}  // namespace labctl::images
