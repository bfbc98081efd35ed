#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <random>
#include <thread>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "hypervisors/libvirt/xml.hpp"
#include "provision/model/loader.hpp"
#include "provision/sys/process.hpp"
#include "tests/support/golden.hpp"

// `labctl status --watch` on a real terminal: tmux runs the labctl executable in an 80x24
// pane against a classroom of ten teams of four VMs on an in-process libvirt host
// (test:///FILE.xml: the file holds the classroom's tagged domains, running, for teams 1-7;
// teams 8-10 have none). The test reads the pane with capture-pane, quits with `q`, and checks
// that the terminal came back as it was and that labctl exited 0.

namespace {

using namespace labctl;
using testing::lines_of;

constexpr auto k_patience = std::chrono::seconds(30);

std::string quoted(const std::string& text) {
  return "'" + text + "'";  // scratch paths and URIs here hold no quote
}

// labs/classroom.yaml with ten teams: 40 VMs.
std::string lab_text() {
  std::string text = testing::read_file(testing::source_dir() / "labs" / "classroom.yaml");
  const std::string from = "  count: 4\n";
  text.replace(text.find(from), from.size(), "  count: 10\n");
  return text;
}

// A <node> world whose domains carry the classroom's tag: teams 1-7 exist and run.
std::string node_xml(const model::Lab& lab) {
  std::string xml =
      "<node>\n  <cpu><nodes>1</nodes><sockets>1</sockets><cores>4</cores><threads>1</threads>"
      "<active>4</active><mhz>2000</mhz><model>i686</model></cpu>\n"
      "  <memory>134217728</memory>\n";
  for (const model::Team& team : lab.teams) {
    for (const model::Vm& vm : team.vms) {
      if (team.index > 7) {
        continue;
      }
      xml += fmt::format(
          "  <domain type='test'><name>{}</name><memory unit='KiB'>{}</memory>"
          "<os><type>hvm</type></os><metadata>{}</metadata></domain>\n",
          vm.name, vm.memory / 1024,
          hv::libvirt::render_tag({lab.classroom, team.name, "domain", vm.spec_hash}));
    }
  }
  return xml + "</node>\n";
}

// One tmux server of our own (-L), killed when the test ends, however it ends.
class Tmux {
 public:
  Tmux() {
    std::random_device random;
    m_socket = fmt::format("lct-watch-{}-{:06x}", ::getpid(), random() & 0xffffffU);
  }
  // The server exits with its last session; its socket file stays unless removed.
  ~Tmux() {
    run({"kill-server"});
    const char* dir = std::getenv("TMUX_TMPDIR");
    std::error_code ec;
    std::filesystem::remove(std::filesystem::path(dir != nullptr && *dir != '\0' ? dir : "/tmp") /
                                fmt::format("tmux-{}", ::getuid()) / m_socket,
                            ec);
  }
  Tmux(const Tmux&) = delete;
  Tmux& operator=(const Tmux&) = delete;

  sys::ProcessResult run(const std::vector<std::string>& args) {
    std::vector<std::string> argv{"tmux", "-L", m_socket};
    argv.insert(argv.end(), args.begin(), args.end());
    auto result = m_runner.run(argv);
    return result ? *result : sys::ProcessResult{127, "", result.error().message};
  }
  std::string screen() { return run({"capture-pane", "-p", "-t", "watch"}).out; }
  std::string format(const std::string& what) {
    std::string out = run({"display-message", "-p", "-t", "watch", what}).out;
    return out.substr(0, out.find('\n'));
  }
  bool alive() { return run({"has-session", "-t", "watch"}).exit_code == 0; }

 private:
  std::string m_socket;
  sys::SystemRunner m_runner;
};

// Polls until `done` holds (true) or the patience runs out (false).
bool eventually(const std::function<bool()>& done) {
  const auto until = std::chrono::steady_clock::now() + k_patience;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return done();
}

// The shell line tmux runs: labctl, then whether the terminal's settings are back, then a
// read that keeps the pane open until the test has looked.
std::string pane_command(const std::filesystem::path& dir, const std::string& uri,
                         const std::string& args) {
  return fmt::format(
      "before=$(stty -g); LABCTL_STATE_DIR={} {} -f {} --connect {} {}; rc=$?; "
      "if [ \"$(stty -g)\" = \"$before\" ]; then t=restored; else t=changed; fi; "
      "echo \"labctl exited $rc, terminal $t\"; read line",
      quoted((dir / "state").string()), quoted(std::string(LABCTL_BINARY_DIR) + "/labctl"),
      quoted((dir / "lab.yaml").string()), quoted(uri), args);
}

void check_frame_fits(const std::string& screen) {
  INFO(screen);
  const std::vector<std::string> lines = lines_of(screen);
  CHECK(lines.size() <= 24);
  REQUIRE_FALSE(lines.empty());
  CHECK(lines[0].starts_with("labctl cd26: 0/"));  // the title did not scroll away
  for (const std::string& line : lines) {
    CHECK(line.size() <= 80);
  }
}

// A test-driver domain runs without a guest: it reaches `running`, or `address` where the
// network refuses a connection to its address at once. "running: vm1 vm2 vm3 vm4".
bool reached_by_test_domain(const std::string& text) {
  return text.starts_with("running:") || text.starts_with("address:");
}

// Polls the pane until it shows `text`, then returns what it shows.
std::string screen_with(Tmux& tmux, const std::string& text) {
  eventually([&] { return tmux.screen().find(text) != std::string::npos; });
  return tmux.screen();
}

// q quits; the alternate screen is gone, the cursor shown, the terminal's mode restored.
void quit_and_check(Tmux& tmux) {
  tmux.run({"send-keys", "-t", "watch", "q"});
  const std::string screen = screen_with(tmux, "labctl exited");
  INFO(screen);
  CHECK(screen.find("labctl exited 0, terminal restored") != std::string::npos);
  CHECK(screen.find("NOT READY") == std::string::npos);
  CHECK(tmux.format("#{alternate_on}") == "0");
  CHECK(tmux.format("#{cursor_flag}") == "1");
  tmux.run({"send-keys", "-t", "watch", "Enter"});
  CHECK(eventually([&] { return !tmux.alive(); }));
}

void start(Tmux& tmux, const std::filesystem::path& dir, const std::string& uri,
           const std::string& args) {
  REQUIRE(tmux.run({"new-session", "-d", "-s", "watch", "-x", "80", "-y", "24",
                    pane_command(dir, uri, args)})
              .exit_code == 0);
}

}  // namespace

TEST_CASE("status --watch draws the classroom in an 80x24 tmux pane and quits on q",
          "[libvirt][tmux]") {
  if (!sys::on_path("tmux")) {
    WARN("SKIPPED: tmux is not installed (provision/bootstrap --with-test-tools installs it)");
    return;
  }
  testing::ScratchDir dir("lct-watch");
  std::ofstream(dir.path() / "lab.yaml") << lab_text();
  auto lab = model::load_lab((dir.path() / "lab.yaml").string());
  INFO((lab ? "" : lab.error().message));
  REQUIRE(lab.ok());
  std::ofstream(dir.path() / "host.xml") << node_xml(*lab);
  const std::string uri = "test://" + (dir.path() / "host.xml").string();
  Tmux tmux;

  SECTION("40 VMs: a line per team, each not-ready VM named with its stage") {
    start(tmux, dir.path(), uri, "status --watch --interval 1");
    const std::string screen = screen_with(tmux, "40 NOT READY");
    INFO(screen);
    check_frame_fits(screen);
    const std::vector<std::string> lines = lines_of(screen);
    for (int t = 1; t <= 10; ++t) {
      const std::string begin = fmt::format("! team{} ", t);
      const auto line = std::find_if(lines.begin(), lines.end(),
                                     [&](const std::string& l) { return l.starts_with(begin); });
      REQUIRE(line != lines.end());
      const std::string vms = line->substr(line->find("0/4   ") + 6);
      if (t <= 7) {
        CHECK(reached_by_test_domain(vms));
        CHECK(vms.ends_with(": vm1 vm2 vm3 vm4"));
      } else {
        CHECK(vms == "absent: vm1 vm2 vm3 vm4");
      }
    }
    quit_and_check(tmux);
  }
  SECTION("one team (`top`): a line per VM with its address and instances") {
    start(tmux, dir.path(), uri, "top team3");
    const std::string screen = screen_with(tmux, "4 NOT READY");
    INFO(screen);
    check_frame_fits(screen);
    for (const model::Vm& vm : lab->find_team("team3")->vms) {
      const std::string begin = fmt::format("! team3 {} host.xml ", vm.key);
      const std::size_t at = screen.find(begin);
      REQUIRE(at != std::string::npos);
      const std::string rest = screen.substr(at + begin.size());  // "running 10.146.4.11 ..."
      CHECK(reached_by_test_domain(rest.substr(0, rest.find(' ')) + ":"));
      CHECK(rest.substr(rest.find_first_not_of(' ', rest.find(' '))).starts_with(vm.nics[0].ip));
    }
    CHECK(screen.find("main:down") != std::string::npos);    // vm1, vm3, vm4
    CHECK(screen.find("legacy:down") != std::string::npos);  // vm2

    // SIGWINCH: five lines leave room for one line per team only.
    tmux.run({"resize-window", "-t", "watch", "-x", "60", "-y", "5"});
    const std::string small = screen_with(tmux, "! team3 host.xml ");
    INFO(small);
    const std::vector<std::string> lines = lines_of(small);
    REQUIRE(lines.size() >= 3);
    CHECK(lines.size() <= 5);
    CHECK(lines[0].starts_with("labctl cd26: 0/4 VMs ready, 4 NOT READY "));
    CHECK(lines[0].ends_with("  q quits"));
    CHECK(lines[0].size() == 60);
    CHECK(lines[1].starts_with("  TEAM  HOST"));
    CHECK(reached_by_test_domain(lines[2].substr(lines[2].find("0/4   ") + 6)));
    quit_and_check(tmux);
  }
}
