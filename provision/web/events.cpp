#include "provision/web/events.hpp"

#include <fmt/format.h>

namespace labctl::web {

EventHub::EventHub(std::size_t keep) : m_keep(keep) {}

std::uint64_t EventHub::publish(const std::string& event, nlohmann::json data,
                                const std::string& team) {
  std::uint64_t id = 0;
  {
    std::lock_guard lock(m_mutex);
    id = ++m_last;
    m_messages.push_back({id, event, std::move(data), team});
    while (m_messages.size() > m_keep) {
      m_messages.pop_front();
    }
  }
  m_changed.notify_all();
  return id;
}

std::vector<Message> EventHub::after(std::uint64_t after, std::chrono::milliseconds wait) {
  std::unique_lock lock(m_mutex);
  m_changed.wait_for(lock, wait, [&] { return m_closed || m_last > after; });
  std::vector<Message> out;
  if (m_closed) {
    return out;
  }
  for (const Message& message : m_messages) {
    if (message.id > after) {
      out.push_back(message);
    }
  }
  return out;
}

std::uint64_t EventHub::last() const {
  std::lock_guard lock(m_mutex);
  return m_last;
}

void EventHub::close() {
  {
    std::lock_guard lock(m_mutex);
    m_closed = true;
  }
  m_changed.notify_all();
}

bool EventHub::closed() const {
  std::lock_guard lock(m_mutex);
  return m_closed;
}

nlohmann::json event_json(const sys::Event& event) {
  return {{"team", event.team},       {"vm", event.vm},
          {"subject", event.subject}, {"state", sys::to_string(event.state)},
          {"message", event.message}, {"seconds", event.seconds}};
}

void HubReporter::report(const sys::Event& event) {
  nlohmann::json data = event_json(event);
  data["action"] = m_action;
  m_hub.publish("progress", std::move(data), event.team);
}

std::string sse_frame(const Message& message) {
  // dump() escapes control characters, so the data is one line.
  return fmt::format("id: {}\nevent: {}\ndata: {}\n\n", message.id, message.event,
                     message.data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace labctl::web
