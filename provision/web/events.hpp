#pragma once

// What the console's pages hear live, as Server-Sent Events: every progress event of a
// running action (the same sys::Event values the terminal's progress view draws, through a
// Reporter), each action's start and end, and "the classroom changed" after each probe. The
// hub keeps the last messages with a sequence number, so a page that reconnects with
// Last-Event-ID gets what it missed; readers wait on it, bounded, and never block a writer.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "provision/sys/reporter.hpp"

namespace labctl::web {

struct Message {
  std::uint64_t id = 0;
  std::string event;  // "progress", "action", "classroom"
  nlohmann::json data;
  std::string team;  // the team it is about; "" for the classroom
};

class EventHub {
 public:
  explicit EventHub(std::size_t keep = 2000);
  // Adds a message, numbered after the last one, and wakes the readers.
  std::uint64_t publish(const std::string& event, nlohmann::json data,
                        const std::string& team = "");
  // The messages after `after` (all that are kept when it is older than them), waiting up to
  // `wait` for one when there is none yet; empty when none came or the hub closed.
  std::vector<Message> after(std::uint64_t after, std::chrono::milliseconds wait);
  std::uint64_t last() const;
  // Wakes every reader for good: the server is stopping.
  void close();
  bool closed() const;

 private:
  std::size_t m_keep;
  mutable std::mutex m_mutex;
  std::condition_variable m_changed;
  std::deque<Message> m_messages;
  std::uint64_t m_last = 0;
  bool m_closed = false;
};

// One action's progress into the hub: each sys::Event becomes a "progress" message carrying
// the action's id.
class HubReporter : public sys::Reporter {
 public:
  HubReporter(EventHub& hub, int action) : m_hub(hub), m_action(action) {}
  void report(const sys::Event& event) override;

 private:
  EventHub& m_hub;
  int m_action;
};

// An event as JSON: {"team","vm","subject","state","message","seconds"}.
nlohmann::json event_json(const sys::Event& event);

// One SSE frame: "id: N\nevent: NAME\ndata: JSON\n\n" (JSON has no raw newline in it).
std::string sse_frame(const Message& message);

}  // namespace labctl::web
