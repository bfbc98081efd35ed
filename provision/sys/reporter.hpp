#pragma once

// One reporter for progress: apply and ready send events; the reporter draws them on stderr
// (a live view on a terminal, plain lines otherwise) or as JSON lines with --json. Data
// (tables, JSON documents) goes to stdout through other paths; the planner never prints.

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace labctl::sys {

enum class EventState { running, done, failed, skipped, info };

struct Event {
  std::string team;     // "" for classroom-wide steps
  std::string vm;       // VM key, or "" for team/classroom steps
  std::string subject;  // "create network cd26-team3-lan", "stage ssh"
  EventState state = EventState::info;
  std::string message;  // reason, error, detail
  double seconds = 0;   // elapsed, for done/failed
};

std::string to_string(EventState state);

// Thread-safe: apply's workers and ready's waiters report concurrently.
class Reporter {
 public:
  virtual ~Reporter() = default;
  virtual void report(const Event& event) = 0;
  virtual void finish() {}
};

enum class ReportStyle { automatic, live, plain, json, quiet };

// automatic: live on a terminal (and not NO_COLOR-dumb), plain otherwise.
std::unique_ptr<Reporter> make_reporter(ReportStyle style, std::FILE* out = stderr);

// Keeps every event: for tests and for summaries.
class RecordingReporter : public Reporter {
 public:
  void report(const Event& event) override;
  std::vector<Event> events() const;

 private:
  mutable std::mutex m_mutex;
  std::vector<Event> m_events;
};

}  // namespace labctl::sys
