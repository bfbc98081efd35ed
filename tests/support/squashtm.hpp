#pragma once

// Squash TM stack values for the stack's tests: a VM and its instances as the renderer takes
// them (no lab around them), and waits on a [docker] test's running instances.

#include <chrono>
#include <random>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "provision/model/lab.hpp"
#include "provision/sys/http.hpp"
#include "stacks/squashtm/health.hpp"
#include "stacks/squashtm/render.hpp"

namespace labctl::testing {

inline model::Instance stack_instance(const std::string& name, const std::string& version, int port,
                                      model::DbKind db = model::DbKind::postgresql,
                                      const std::string& image = "squashtest/squash-tm") {
  model::Instance i;
  i.name = name;
  i.version = version;
  i.port = port;
  i.db = db;
  i.image = image;
  return i;
}

inline model::Vm stack_vm(model::Bytes memory = 2 * model::k_gib) {
  model::Vm v;
  v.key = "vm1";
  v.name = "cd26-team3-vm1";
  v.team = "team3";
  v.hostname = "team3-vm1";
  v.index = 1;
  v.memory = memory;
  return v;
}

inline squashtm::Owner stack_owner() {
  return {"cd26", "team3", "cd26-team3-vm1"};
}

// A short random id that keeps one [docker] test run's names and labels apart from another's.
inline std::string run_id() {
  std::random_device random;
  return fmt::format("{:06x}", random() & 0xffffff);
}

// Probes 127.0.0.1:port every half second until it answers 200 with `expect` in its first line.
inline squashtm::Health wait_healthy(int port, const std::string& expect, int tries = 60) {
  using namespace std::chrono_literals;
  sys::CurlHttpClient http;
  squashtm::Health health;
  for (int i = 0; i < tries; ++i) {
    health = squashtm::probe_health(http, "127.0.0.1", port, 1000ms);
    if (health.healthy && health.first_line.find(expect) != std::string::npos) {
      break;
    }
    std::this_thread::sleep_for(500ms);
  }
  return health;
}

}  // namespace labctl::testing
