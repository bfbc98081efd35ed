#include "stacks/squashtm/health.hpp"

#include <fmt/format.h>

namespace labctl::squashtm {

namespace {

constexpr std::size_t k_max_body = 4096;  // the page is one line; never buffer more

std::string first_line_of(const std::string& text) {
  const std::size_t end = text.find_first_of("\r\n");
  return end == std::string::npos ? text : text.substr(0, end);
}

}  // namespace

Health probe_health(sys::HttpClient& http, const std::string& host, int port,
                    std::chrono::milliseconds timeout) {
  sys::HttpRequest request;
  request.url = fmt::format("http://{}:{}/squash/isSquashAlive", host, port);
  request.timeout = timeout;
  request.max_body = k_max_body;
  request.follow_redirects = false;  // the instance itself answers, or it is not healthy
  request.use_proxy = false;         // the VM is always reached directly
  const auto start = std::chrono::steady_clock::now();
  const auto response = http.get(request);
  Health health;
  health.latency = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  if (!response) {
    health.first_line = response.error().message;
    return health;
  }
  health.http_status = response->status;
  health.first_line = first_line_of(response->body);
  // Only the status counts: the body's wording is not a documented interface.
  health.healthy = health.http_status == 200;
  return health;
}

}  // namespace labctl::squashtm
