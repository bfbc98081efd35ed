#include "provision/sys/reporter.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdlib>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "provision/sys/printable.hpp"

namespace labctl::sys {

namespace {

std::string label(const Event& event) {
  if (event.team.empty()) {
    return "classroom";
  }
  return event.vm.empty() ? event.team : event.team + "/" + event.vm;
}

// Events carry names and errors from input: escaped before a text reporter draws them.
Event printable_event(Event event) {
  event.team = printable(event.team);
  event.vm = printable(event.vm);
  event.subject = printable(event.subject);
  event.message = printable(event.message);
  return event;
}

std::string plain_line(const Event& event) {
  std::string line =
      fmt::format("{:<14} {:<8} {}", label(event), to_string(event.state), event.subject);
  if (event.state == EventState::done || event.state == EventState::failed) {
    line += fmt::format(" ({:.1f}s)", event.seconds);
  }
  if (!event.message.empty()) {
    line += ": " + event.message;
  }
  return line;
}

class PlainReporter : public Reporter {
 public:
  explicit PlainReporter(std::FILE* out) : m_out(out) {}
  void report(const Event& event) override {
    std::lock_guard lock(m_mutex);
    fmt::print(m_out, "{}\n", plain_line(printable_event(event)));
    std::fflush(m_out);
  }

 private:
  std::mutex m_mutex;
  std::FILE* m_out;
};

class JsonReporter : public Reporter {
 public:
  explicit JsonReporter(std::FILE* out) : m_out(out) {}
  // "t": seconds since the command started, so that a consumer can lay events on a timeline.
  void report(const Event& event) override {
    const std::chrono::duration<double> t = std::chrono::steady_clock::now() - m_start;
    nlohmann::ordered_json j = {{"team", event.team},
                                {"vm", event.vm},
                                {"subject", event.subject},
                                {"state", to_string(event.state)},
                                {"message", event.message},
                                {"seconds", event.seconds},
                                {"t", std::round(t.count() * 1000) / 1000}};
    std::lock_guard lock(m_mutex);
    fmt::print(m_out, "{}\n", j.dump());
    std::fflush(m_out);
  }

 private:
  std::mutex m_mutex;
  std::FILE* m_out;
  std::chrono::steady_clock::time_point m_start = std::chrono::steady_clock::now();
};

class QuietReporter : public Reporter {
 public:
  void report(const Event&) override {}
};

// One line per team/VM, redrawn in place: the latest step of each and its state.
class LiveReporter : public Reporter {
 public:
  explicit LiveReporter(std::FILE* out)
      : m_out(out),
        m_start(std::chrono::steady_clock::now()),
        m_colour(std::getenv("NO_COLOR") == nullptr) {}
  void report(const Event& raw) override {
    const Event event = printable_event(raw);
    std::lock_guard lock(m_mutex);
    const std::string key = label(event);
    if (!m_rows.contains(key)) {
      m_order.push_back(key);
    }
    m_rows[key] = event;
    if (event.state == EventState::failed) {
      m_failures.push_back(plain_line(event));
    }
    redraw();
  }
  void finish() override {
    std::lock_guard lock(m_mutex);
    m_drawn = 0;  // leave the final view on screen
  }

 private:
  void redraw() {
    if (m_drawn > 0) {
      fmt::print(m_out, "\x1b[{}F", m_drawn);
    }
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count();
    fmt::print(m_out, "\x1b[2Klabctl  {:.0f}s\n", elapsed);
    for (const std::string& key : m_order) {
      const Event& e = m_rows[key];
      const char* colour = !m_colour                       ? ""
                           : e.state == EventState::failed ? "\x1b[31m"
                           : e.state == EventState::done   ? "\x1b[32m"
                                                           : "\x1b[33m";
      std::string text = fmt::format("{:<16} {}{:<8}{} {}", key, colour, to_string(e.state),
                                     m_colour ? "\x1b[0m" : "", e.subject);
      if (!e.message.empty()) {
        text += ": " + e.message;
      }
      fmt::print(m_out, "\x1b[2K{}\n", text.substr(0, 200));
    }
    m_drawn = static_cast<int>(m_order.size()) + 1;
    std::fflush(m_out);
  }

  std::mutex m_mutex;
  std::FILE* m_out;
  std::chrono::steady_clock::time_point m_start;
  std::map<std::string, Event> m_rows;
  std::vector<std::string> m_order;
  std::vector<std::string> m_failures;
  int m_drawn = 0;
  bool m_colour;
};

}  // namespace

std::string to_string(EventState state) {
  switch (state) {
    case EventState::running:
      return "running";
    case EventState::done:
      return "done";
    case EventState::failed:
      return "FAILED";
    case EventState::skipped:
      return "skipped";
    case EventState::info:
      return "info";
  }
  return "?";
}

std::unique_ptr<Reporter> make_reporter(ReportStyle style, std::FILE* out) {
  if (style == ReportStyle::automatic) {
    const char* term = std::getenv("TERM");
    const bool tty = ::isatty(::fileno(out)) != 0 && term != nullptr && std::string(term) != "dumb";
    style = tty ? ReportStyle::live : ReportStyle::plain;
  }
  switch (style) {
    case ReportStyle::live:
      return std::make_unique<LiveReporter>(out);
    case ReportStyle::json:
      return std::make_unique<JsonReporter>(out);
    case ReportStyle::quiet:
      return std::make_unique<QuietReporter>();
    default:
      return std::make_unique<PlainReporter>(out);
  }
}

void RecordingReporter::report(const Event& event) {
  std::lock_guard lock(m_mutex);
  m_events.push_back(event);
}

std::vector<Event> RecordingReporter::events() const {
  std::lock_guard lock(m_mutex);
  return m_events;
}

}  // namespace labctl::sys
