#pragma once

// A ready::Clock whose time passes only when its user sleeps: a 300 s timeout takes no real
// time, and a test plays a guest's boot from on_sleep.

#include <chrono>
#include <functional>
#include <mutex>

#include "provision/ready/stages.hpp"

namespace labctl::testing {

class FakeClock : public ready::Clock {
 public:
  std::chrono::steady_clock::time_point now() const override {
    std::lock_guard lock(m_mutex);
    return m_now;
  }
  void sleep(std::chrono::milliseconds duration) const override {
    std::chrono::steady_clock::time_point now;
    {
      std::lock_guard lock(m_mutex);
      now = m_now += duration;
    }
    if (on_sleep) {
      on_sleep(now - std::chrono::steady_clock::time_point{});
    }
  }
  // Called after each sleep with the time since the clock's start (a guest's boot going on).
  std::function<void(std::chrono::steady_clock::duration)> on_sleep;

 private:
  mutable std::mutex m_mutex;
  mutable std::chrono::steady_clock::time_point m_now{};
};

}  // namespace labctl::testing
