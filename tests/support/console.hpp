#pragma once

// The web console for tests, in this process: a classroom on libvirt's test driver
// (test:///default), its state directory in a scratch directory, the registries pointed at a
// closed loopback port, and `labctl serve`'s parts (hub, tokens, console, server) on a free
// loopback port. The test driver's VMs have no guest, so the instance operations go to
// TestDriverGuest: a named stand-in for the shell a real VM would give (the [vm] tier does
// the same from the browser on real VMs).

#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "provision/web/server.hpp"
#include "stacks/squashtm/remote.hpp"
#include "tests/support/env.hpp"
#include "tests/support/golden.hpp"

namespace labctl::testing {

// What a test-driver VM's root shell answers: every command succeeds and is recorded;
// `docker ps` lists nothing.
class TestDriverGuest : public squashtm::Remote {
 public:
  Result<squashtm::ExecResult> exec(const std::string& command) override;
  Status put_file(const std::string& path, const std::string& content, int mode) override;
  std::vector<std::string> commands() const;

 private:
  mutable std::mutex m_mutex;
  std::vector<std::string> m_commands;
};

// A classroom of teams team2 and team3, each with vm1 (Squash TM "main" 6.0.0) and vm2
// ("old" 5.1.0), 2 GiB each, on one NAT network; `title` goes in as a YAML string.
std::string console_lab(const std::string& classroom, const std::string& title);

struct ConsoleSetup {
  std::string lab_yaml;  // a lab file (its hosts: test:///default is given by the fixture)
  bool probe = true;
};

class ConsoleFixture {
 public:
  explicit ConsoleFixture(const ConsoleSetup& setup);
  ~ConsoleFixture();

  std::string base() const { return m_server->base_url(); }
  std::string login_url() const { return base() + "/login?token=" + m_access->instructor_token(); }
  std::string team_url(const std::string& team) const {
    return base() + "/login?token=" + m_access->team_token(team);
  }
  web::Console& console() { return *m_console; }
  web::EventHub& hub() { return *m_hub; }
  web::Access& access() { return *m_access; }
  const model::Lab& lab() const { return m_console->lab(); }
  const std::filesystem::path& state_root() const { return m_root; }

 private:
  ScratchDir m_scratch{"lct-console"};
  std::filesystem::path m_root;
  std::unique_ptr<ScopedEnv> m_env;
  std::unique_ptr<web::EventHub> m_hub;
  std::optional<web::Access> m_access;
  std::unique_ptr<web::Console> m_console;
  std::unique_ptr<web::Server> m_server;
  std::thread m_serving;
};

}  // namespace labctl::testing
