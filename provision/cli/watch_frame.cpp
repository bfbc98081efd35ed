#include "provision/cli/watch_frame.hpp"

#include <algorithm>
#include <cstddef>

#include <fmt/format.h>

namespace labctl::cli {

namespace {

constexpr std::size_t k_short_host = 16;

// Printable ASCII only (a byte is a column), trailing blanks dropped, "..." when cut.
std::string fit(std::string text, std::size_t width) {
  for (char& c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte >= 0x7f) {
      c = byte == '\n' || byte == '\t' || byte == '\r' ? ' ' : '?';
    }
  }
  if (text.size() > width) {
    text = width > 3 ? text.substr(0, width - 3) + "..." : text.substr(0, width);
  }
  text.erase(text.find_last_not_of(' ') + 1);
  return text;
}

// A capped column: cut with "~" to keep the columns after it aligned.
std::string clip(const std::string& text, std::size_t width) {
  return text.size() <= width ? text : text.substr(0, width - 1) + "~";
}

struct Widths {
  std::size_t team = 4, vm = 3, host = 4, stage = 5, address = 7;
};

Widths widths_of(const std::vector<WatchRow>& rows) {
  Widths w;
  for (const WatchRow& row : rows) {
    w.team = std::max(w.team, row.team.size());
    w.vm = std::max(w.vm, row.vm.size());
    w.host = std::max(w.host, short_host(row.host).size());
    w.stage = std::max(w.stage, row.stage.size());
    w.address = std::max(w.address, row.address.size());
  }
  return {std::min<std::size_t>(w.team, 12), std::min<std::size_t>(w.vm, 8),
          std::min(w.host, k_short_host), std::min<std::size_t>(w.stage, 15),
          std::min<std::size_t>(w.address, 15)};
}

std::string columns(char mark, const Widths& w, const std::vector<std::string>& cells) {
  return fmt::format("{} {:<{}} {:<{}} {:<{}} {:<{}} {:<{}} {}", mark, clip(cells[0], w.team),
                     w.team, clip(cells[1], w.vm), w.vm, clip(cells[2], w.host), w.host,
                     clip(cells[3], w.stage), w.stage, clip(cells[4], w.address), w.address,
                     cells[5]);
}

std::string instances_text(const WatchRow& row) {
  std::string out;
  for (const WatchInstance& instance : row.instances) {
    out += fmt::format("{}{}:{}", out.empty() ? "" : " ", instance.name,
                       instance.healthy ? "ok" : "down");
  }
  if (out.empty()) {
    out = "-";
  }
  if (!row.ready && !row.detail.empty()) {
    out += " (" + row.detail + ")";
  }
  return out;
}

FrameLine header_line(const Widths& w) {
  return {columns(' ', w, {"TEAM", "VM", "HOST", "STAGE", "ADDRESS", "INSTANCES"}), Tone::heading};
}

FrameLine vm_line(const WatchRow& row, const Widths& w) {
  return {columns(row.ready ? ' ' : '!', w,
                  {row.team, row.vm, short_host(row.host), row.stage,
                   row.address.empty() ? "-" : row.address, instances_text(row)}),
          row.ready ? Tone::plain : Tone::alert};
}

struct TeamGroup {
  std::string team;
  std::vector<const WatchRow*> vms;
  std::size_t ready() const {
    return static_cast<std::size_t>(
        std::count_if(vms.begin(), vms.end(), [](const WatchRow* r) { return r->ready; }));
  }
};

std::vector<TeamGroup> teams_of(const std::vector<WatchRow>& rows) {
  std::vector<TeamGroup> teams;
  for (const WatchRow& row : rows) {
    auto it = std::find_if(teams.begin(), teams.end(),
                           [&](const TeamGroup& t) { return t.team == row.team; });
    if (it == teams.end()) {
      teams.push_back({row.team, {}});
      it = teams.end() - 1;
    }
    it->vms.push_back(&row);
  }
  return teams;
}

std::vector<FrameLine> per_vm_lines(const std::vector<WatchRow>& rows, const Widths& w) {
  std::vector<FrameLine> lines{header_line(w)};
  for (const WatchRow& row : rows) {
    lines.push_back(vm_line(row, w));
  }
  return lines;
}

// The team's ready VMs on one line: "team1 4/4 h3 ready vm1 vm2 vm3 vm4".
FrameLine ready_line(const TeamGroup& team, const Widths& w) {
  std::string keys;
  for (const WatchRow* row : team.vms) {
    if (row->ready) {
      keys += (keys.empty() ? "" : " ") + row->vm;
    }
  }
  const std::string count = fmt::format("{}/{}", team.ready(), team.vms.size());
  std::string line = columns(' ', w,
                             {team.team, count.size() <= w.vm ? count : "",
                              short_host(team.vms[0]->host), "ready", "", ""});
  line.resize(2 + w.team + 1 + w.vm + 1 + w.host + 1 + w.stage + 1);  // where ADDRESS starts
  return {line + keys};
}

std::vector<FrameLine> grouped_lines(const std::vector<WatchRow>& rows, const Widths& w) {
  std::vector<FrameLine> lines{header_line(w)};
  for (const TeamGroup& team : teams_of(rows)) {
    if (team.ready() > 0) {
      lines.push_back(ready_line(team, w));
    }
    for (const WatchRow* row : team.vms) {
      if (!row->ready) {
        lines.push_back(vm_line(*row, w));
      }
    }
  }
  return lines;
}

// The team's VMs that are not ready, by stage: "running: vm1 vm2  absent: vm3".
std::string not_ready_text(const TeamGroup& team) {
  std::vector<std::pair<std::string, std::string>> by_stage;
  for (const WatchRow* row : team.vms) {
    if (row->ready) {
      continue;
    }
    auto it = std::find_if(by_stage.begin(), by_stage.end(),
                           [&](const auto& s) { return s.first == row->stage; });
    if (it == by_stage.end()) {
      by_stage.emplace_back(row->stage, row->vm);
    } else {
      it->second += " " + row->vm;
    }
  }
  std::string out;
  for (const auto& [stage, keys] : by_stage) {
    out += fmt::format("{}{}: {}", out.empty() ? "" : "  ", stage, keys);
  }
  return out;
}

FrameLine team_line(const TeamGroup& team, std::size_t team_width) {
  const bool ready = team.ready() == team.vms.size();
  return {fmt::format("{} {:<{}} {:<{}} {:>3}/{:<3} {}", ready ? ' ' : '!',
                      clip(team.team, team_width), team_width, short_host(team.vms[0]->host),
                      k_short_host, team.ready(), team.vms.size(), not_ready_text(team)),
          ready ? Tone::plain : Tone::alert};
}

// One line per team, not-ready teams first; what does not fit is counted on the last line.
std::vector<FrameLine> team_lines(const std::vector<WatchRow>& rows, std::size_t budget) {
  std::vector<TeamGroup> teams = teams_of(rows);
  std::stable_partition(teams.begin(), teams.end(),
                        [](const TeamGroup& t) { return t.ready() < t.vms.size(); });
  const std::size_t team_width = widths_of(rows).team;
  std::vector<FrameLine> lines;
  if (budget >= 3) {
    lines.push_back({fmt::format("  {:<{}} {:<{}} {:>7} NOT READY", "TEAM", team_width, "HOST",
                                 k_short_host, "READY"),
                     Tone::heading});
  }
  const std::size_t room = budget - lines.size();
  const std::size_t shown = teams.size() <= room ? teams.size() : room - 1;
  for (std::size_t i = 0; i < shown; ++i) {
    lines.push_back(team_line(teams[i], team_width));
  }
  if (shown < teams.size()) {
    const auto hidden_not_ready =
        std::count_if(teams.begin() + static_cast<long>(shown), teams.end(),
                      [](const TeamGroup& t) { return t.ready() < t.vms.size(); });
    lines.push_back({fmt::format("  ... {} more teams, {} of them with VMs not ready",
                                 teams.size() - shown, hidden_not_ready),
                     hidden_not_ready > 0 ? Tone::alert : Tone::plain});
  }
  return lines;
}

std::vector<FrameLine> body_lines(const std::vector<WatchRow>& rows, std::size_t budget) {
  if (rows.empty()) {
    return {{"  no VMs in scope"}};
  }
  const Widths w = widths_of(rows);
  if (std::vector<FrameLine> lines = per_vm_lines(rows, w); lines.size() <= budget) {
    return lines;
  }
  if (std::vector<FrameLine> lines = grouped_lines(rows, w); lines.size() <= budget) {
    return lines;
  }
  return team_lines(rows, budget);
}

std::string title_text(const WatchModel& model, std::size_t width) {
  const auto ready = std::count_if(model.rows.begin(), model.rows.end(),
                                   [](const WatchRow& r) { return r.ready; });
  const auto total = static_cast<long>(model.rows.size());
  if (model.updated.empty()) {
    return fmt::format("labctl {}: {} VMs  probing...  q quits", model.classroom, total);
  }
  std::string left = fmt::format("labctl {}: {}/{} VMs ready", model.classroom, ready, total);
  if (ready < total) {
    left += fmt::format(", {} NOT READY", total - ready);
  }
  // The clock's line shrinks before the count is cut.
  for (const std::string& right :
       {fmt::format("{} every {}s  q quits", model.updated, model.interval),
        fmt::format("{}  q quits", model.updated), std::string("q quits")}) {
    if (left.size() + 2 + right.size() <= width) {
      return left + std::string(width - left.size() - right.size(), ' ') + right;
    }
  }
  return left;
}

}  // namespace

std::vector<FrameLine> render_frame(const WatchModel& model, int width, int height) {
  if (width <= 0 || height <= 0) {
    return {};
  }
  const auto columns_count = static_cast<std::size_t>(width);
  const auto budget = static_cast<std::size_t>(height) - 1;
  std::vector<FrameLine> lines{{title_text(model, columns_count), Tone::heading}};
  if (budget > 0) {
    std::vector<FrameLine> body =
        model.updated.empty()
            ? std::vector<FrameLine>{{fmt::format("  probing {} VMs...", model.rows.size())}}
            : body_lines(model.rows, budget);
    lines.insert(lines.end(), body.begin(), body.end());
  }
  lines.resize(std::min(lines.size(), static_cast<std::size_t>(height)));
  for (FrameLine& line : lines) {
    line.text = fit(line.text, columns_count);
  }
  return lines;
}

std::string short_host(const std::string& uri) {
  const std::size_t scheme = uri.find("://");
  if (scheme == std::string::npos) {
    return clip(uri, k_short_host);
  }
  const std::size_t start = scheme + 3;
  const std::size_t slash = uri.find('/', start);
  std::string authority = uri.substr(start, slash == std::string::npos ? slash : slash - start);
  if (!authority.empty()) {
    return clip(authority.substr(authority.find('@') + 1), k_short_host);
  }
  if (uri.size() <= k_short_host) {
    return uri;
  }
  return clip(uri.substr(uri.find_last_of('/') + 1), k_short_host);
}

}  // namespace labctl::cli
