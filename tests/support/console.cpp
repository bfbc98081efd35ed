#include "tests/support/console.hpp"

#include <fstream>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tests/support/labs.hpp"

namespace labctl::testing {

std::string console_lab(const std::string& classroom, const std::string& title) {
  // Flow style: one line per part of the file.
  return fmt::format(R"(classroom: {}
title: {}
image: {{ build: debian-12, with: [docker], boot: efi }}
defaults: {{ memory: 2GiB, disk: 2GiB }}
teams: {{ names: [team2, team3] }}
template: {{ networks: {{ lan: {{ kind: nat }} }}, vms: {{ vm1: {{ instances: [{{ name: main, version: 6.0.0 }}] }}, vm2: {{ instances: [{{ name: old, version: 5.1.0 }}] }} }} }}
squashtm: {{ memory: 512MiB }}
)",
                     classroom, nlohmann::json(title).dump());
}

Result<squashtm::ExecResult> TestDriverGuest::exec(const std::string& command) {
  std::lock_guard lock(m_mutex);
  m_commands.push_back(command);
  if (command.starts_with("ids=$(docker ps")) {
    return squashtm::ExecResult{0, "[]", ""};
  }
  return squashtm::ExecResult{0, "", ""};
}

Status TestDriverGuest::put_file(const std::string& path, const std::string&, int) {
  std::lock_guard lock(m_mutex);
  m_commands.push_back("put " + path);
  return {};
}

std::vector<std::string> TestDriverGuest::commands() const {
  std::lock_guard lock(m_mutex);
  return m_commands;
}

ConsoleFixture::ConsoleFixture(const ConsoleSetup& setup) {
  m_root = m_scratch.path() / "state";
  m_env = std::make_unique<ScopedEnv>(std::map<std::string, std::optional<std::string>>{
      {"LABCTL_STATE_DIR", m_root.string()},
      {"LABCTL_REGISTRY", "http://127.0.0.1:9"},
      {"LABCTL_UPSTREAM", "http://127.0.0.1:9"},
      {"LABCTL_REGISTRY_CACHE", (m_scratch.path() / "registry-cache").string()}});
  const std::filesystem::path file = m_scratch.path() / "lab.yaml";
  {
    std::ofstream out(file);
    out << setup.lab_yaml;
  }
  model::Lab lab = lab_from_yaml(setup.lab_yaml, file.string());
  auto state = sys::StateDir::open(lab.classroom);
  if (!state) {
    throw std::runtime_error(state.error().message);
  }
  std::vector<std::string> teams;
  for (const model::Team& team : lab.teams) {
    teams.push_back(team.name);
  }
  auto access = web::Access::open(*state, teams);
  if (!access) {
    throw std::runtime_error(access.error().message);
  }
  m_access.emplace(std::move(*access));
  m_hub = std::make_unique<web::EventHub>();
  web::ConsoleOptions options;
  options.hosts.connect = "test:///default";
  options.options.no_wait = true;
  options.options.force = true;  // the test driver's host has 3 GiB
  options.refresh = std::chrono::milliseconds(500);
  options.probe = setup.probe;
  auto guest = std::make_shared<TestDriverGuest>();
  options.open_remote =
      [guest](const converge::InstanceTarget&) -> Result<std::unique_ptr<squashtm::Remote>> {
    // Each operation gets its own shell, as each SSH session is; they share the record.
    struct Shared : squashtm::Remote {
      std::shared_ptr<TestDriverGuest> guest;
      Result<squashtm::ExecResult> exec(const std::string& c) override { return guest->exec(c); }
      Status put_file(const std::string& p, const std::string& c, int m) override {
        return guest->put_file(p, c, m);
      }
    };
    auto shell = std::make_unique<Shared>();
    shell->guest = guest;
    return std::unique_ptr<squashtm::Remote>(std::move(shell));
  };
  m_console = std::make_unique<web::Console>(std::move(lab), options, *m_hub);
  m_server = std::make_unique<web::Server>(*m_console, *m_access, *m_hub);
  auto port = m_server->bind({"127.0.0.1", 0, "", ""});
  if (!port) {
    throw std::runtime_error(port.error().message);
  }
  m_console->start();
  m_serving = std::thread([this] { m_server->run(); });
}

ConsoleFixture::~ConsoleFixture() {
  m_server->stop();
  if (m_serving.joinable()) {
    m_serving.join();
  }
  m_console->stop();
}

}  // namespace labctl::testing
