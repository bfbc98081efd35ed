#pragma once

// Is a Squash TM instance answering? GET http://<host>:<port>/squash/isSquashAlive, through
// the HTTP seam (sys::CurlHttpClient in production).

#include <chrono>
#include <string>

#include "provision/sys/http.hpp"

namespace labctl::squashtm {

struct Health {
  bool healthy = false;    // HTTP 200
  long http_status = 0;    // 0 when no HTTP answer came back
  std::string first_line;  // first line of the body (or the transport error)
  std::chrono::milliseconds latency{0};
};

// Never fails: a refused connection or a timeout is an unhealthy answer.
Health probe_health(sys::HttpClient& http, const std::string& host, int port,
                    std::chrono::milliseconds timeout = std::chrono::milliseconds(3000));

}  // namespace labctl::squashtm
