#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "provision/cli/watch_frame.hpp"

using namespace labctl::cli;

namespace {

constexpr const char* k_host = "qemu:///system";

WatchRow ready_vm(int team, int vm) {
  return {fmt::format("team{}", team),
          fmt::format("vm{}", vm),
          k_host,
          "stack healthy",
          fmt::format("10.118.{}.{}", team, 10 + vm),
          true,
          {{"main", true}, {"legacy", true}},
          ""};
}

WatchRow not_ready_vm(int team, int vm, const std::string& stage) {
  WatchRow row = ready_vm(team, vm);
  row.stage = stage;
  row.ready = false;
  row.instances[1].healthy = false;
  row.detail = "no answer from " + row.address;
  return row;
}

// `teams` teams of `vms` VMs, every VM ready except those listed as {team, vm, stage}.
WatchModel classroom(int teams, int vms,
                     const std::vector<std::tuple<int, int, std::string>>& bad) {
  WatchModel model{"cd26", "12:03:04", 2, {}};
  for (int t = 1; t <= teams; ++t) {
    for (int v = 1; v <= vms; ++v) {
      model.rows.push_back(ready_vm(t, v));
      for (const auto& [bt, bv, stage] : bad) {
        if (bt == t && bv == v) {
          model.rows.back() = not_ready_vm(t, v, stage);
        }
      }
    }
  }
  return model;
}

std::string text_of(const std::vector<FrameLine>& lines) {
  std::string out;
  for (const FrameLine& line : lines) {
    out += line.text + "\n";
  }
  return out;
}

void check_fits(const std::vector<FrameLine>& lines, std::size_t width, std::size_t height) {
  INFO(text_of(lines));
  CHECK(lines.size() <= height);
  for (const FrameLine& line : lines) {
    CHECK(line.text.size() <= width);
  }
}

// The line that names the team and the VM, with `stage` on it.
bool shows(const std::vector<FrameLine>& lines, const std::string& team, const std::string& vm,
           const std::string& stage) {
  return std::any_of(lines.begin(), lines.end(), [&](const FrameLine& line) {
    const std::string& t = line.text;
    return t.find(team + " ") != std::string::npos && t.find(vm) != std::string::npos &&
           t.find(stage) != std::string::npos;
  });
}

}  // namespace

TEST_CASE("a small classroom gets one line per VM", "[unit]") {
  const WatchModel model = classroom(1, 2, {{1, 2, "ssh"}});
  const auto lines = render_frame(model, 110, 24);
  const std::string title = "labctl cd26: 1/2 VMs ready, 1 NOT READY";
  const std::string clock = "12:03:04 every 2s  q quits";
  CHECK(text_of(lines) ==
        title + std::string(110 - title.size() - clock.size(), ' ') + clock + "\n" +
            "  TEAM  VM  HOST           STAGE         ADDRESS     INSTANCES\n"
            "  team1 vm1 qemu:///system stack healthy 10.118.1.11 main:ok legacy:ok\n"
            "! team1 vm2 qemu:///system ssh           10.118.1.12 main:ok legacy:down "
            "(no answer from 10.118.1.12)\n");
  CHECK(lines[0].tone == Tone::heading);
  CHECK(lines[2].tone == Tone::plain);
  CHECK(lines[3].tone == Tone::alert);
}

TEST_CASE("40 VMs on an 80x24 terminal fit and show every VM that is not ready", "[unit]") {
  const std::vector<std::tuple<int, int, std::string>> bad = {
      {2, 1, "ssh"},     {2, 3, "absent"},    {5, 1, "running"},
      {5, 2, "running"}, {5, 3, "running"},   {5, 4, "running"},
      {7, 4, "off"},     {9, 2, "docker up"}, {10, 1, "cloud-init done"}};
  const WatchModel model = classroom(10, 4, bad);
  const auto lines = render_frame(model, 80, 24);
  check_fits(lines, 80, 24);
  INFO(text_of(lines));
  CHECK(lines[0].text.starts_with("labctl cd26: 31/40 VMs ready, 9 NOT READY"));
  for (const auto& [team, vm, stage] : bad) {
    CHECK(shows(lines, fmt::format("team{}", team), fmt::format("vm{}", vm), stage));
  }
  SECTION("a team whose VMs are all ready takes one line") {
    CHECK(std::count_if(lines.begin(), lines.end(),
                        [](const FrameLine& l) { return l.text.starts_with("  team1 "); }) == 1);
    CHECK(shows(lines, "team1", "vm1 vm2 vm3 vm4", "ready"));
  }
}

TEST_CASE("when even the grouped view is too tall, one line per team, problems first", "[unit]") {
  SECTION("40 VMs, none ready yet, on 80x24") {
    std::vector<std::tuple<int, int, std::string>> bad;
    for (int t = 1; t <= 10; ++t) {
      for (int v = 1; v <= 4; ++v) {
        bad.emplace_back(t, v, v == 4 ? "absent" : "running");
      }
    }
    const auto lines = render_frame(classroom(10, 4, bad), 80, 24);
    check_fits(lines, 80, 24);
    CHECK(lines.size() == 12);  // title, header, 10 teams
    CHECK(shows(lines, "team10", "running: vm1 vm2 vm3  absent: vm4", "0/4"));
  }
  SECTION("200 one-VM teams: the not-ready ones are shown, the rest counted") {
    const auto lines =
        render_frame(classroom(200, 1, {{150, 1, "ssh"}, {199, 1, "absent"}}), 80, 24);
    check_fits(lines, 80, 24);
    INFO(text_of(lines));
    CHECK(lines.size() == 24);
    CHECK(lines[2].text.starts_with("! team150 "));
    CHECK(lines[3].text.starts_with("! team199 "));
    CHECK(lines[23].text == "  ... 179 more teams, 0 of them with VMs not ready");
  }
}

TEST_CASE("any terminal size gets a frame that fits it", "[unit]") {
  const WatchModel model = classroom(10, 4, {{3, 3, "ssh"}});
  for (auto [width, height] : {std::pair{80, 24}, {40, 10}, {20, 3}, {10, 2}, {1, 1}, {200, 60}}) {
    check_fits(render_frame(model, width, height), std::size_t(width), std::size_t(height));
  }
  CHECK(render_frame(model, 0, 24).empty());
  CHECK(render_frame(model, 80, 0).empty());
}

TEST_CASE("the first frame says it is probing; odd bytes never reach the terminal", "[unit]") {
  WatchModel model = classroom(1, 1, {});
  model.updated = "";
  CHECK(text_of(render_frame(model, 80, 24)) ==
        "labctl cd26: 1 VMs  probing...  q quits\n"
        "  probing 1 VMs...\n");
  model = classroom(1, 1, {{1, 1, "ssh"}});
  model.rows[0].detail = "line one\nline two \xc3\xa9\x1b[2J";
  const std::string text = render_frame(model, 200, 24).back().text;
  CHECK(text.ends_with("(line one line two ???[2J)"));
}

TEST_CASE("short_host keeps the part of a URI worth a column", "[unit]") {
  CHECK(short_host("qemu:///system") == "qemu:///system");
  CHECK(short_host("qemu+ssh://root@lab-host2/system") == "lab-host2");
  CHECK(short_host("test:///tmp/lct-watch.abc123/h1.xml") == "h1.xml");
  CHECK(short_host("hyperv://") == "hyperv://");
  CHECK(short_host("qemu+ssh://a-very-long-host-name.example.org/system") == "a-very-long-hos~");
}
