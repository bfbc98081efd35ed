#pragma once

// What runs on a VM, read back from `docker inspect` of the containers carrying our labels.

#include <chrono>
#include <string>
#include <vector>

#include "provision/model/lab.hpp"
#include "provision/result.hpp"
#include "stacks/squashtm/render.hpp"

namespace labctl::squashtm {

struct InstanceStatus {
  model::Instance instance;        // rebuilt from the labels (name, version, port, db, memory, ...)
  std::string container;           // container id of the app service
  std::string state;               // docker's: running, restarting, exited, created, ...
  std::string health;              // healthy, unhealthy, starting, or "" without a healthcheck
  std::chrono::seconds uptime{0};  // since the last (re)start, 0 when not running
  int restarts = 0;                // docker's RestartCount
};

// `docker ps -aq` filters selecting the owner's containers (and one role/instance if given).
std::string label_filters(const Owner& owner, const std::string& role = "",
                          const std::string& instance = "");

// Parses `docker inspect` output (a JSON array) of app containers; sorted by port.
Result<std::vector<InstanceStatus>> parse_inspect(const std::string& json,
                                                  std::chrono::system_clock::time_point now);

}  // namespace labctl::squashtm
