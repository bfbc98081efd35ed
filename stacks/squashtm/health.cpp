#include "stacks/squashtm/health.hpp"

#include <memory>

#include <curl/curl.h>
#include <fmt/format.h>

namespace labctl::squashtm {

namespace {

constexpr std::size_t k_max_body = 4096;  // the page is one line; never buffer more

std::size_t collect(char* data, std::size_t size, std::size_t count, void* user) {
  auto* body = static_cast<std::string*>(user);
  const std::size_t n = size * count;
  body->append(data, std::min(n, k_max_body - std::min(k_max_body, body->size())));
  return n;
}

std::string first_line_of(const std::string& text) {
  const std::size_t end = text.find_first_of("\r\n");
  return end == std::string::npos ? text : text.substr(0, end);
}

}  // namespace

Health probe_health(const std::string& host, int port, std::chrono::milliseconds timeout) {
  using Curl = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>;
  Curl curl(curl_easy_init(), &curl_easy_cleanup);
  Health health;
  if (!curl) {
    health.first_line = "curl_easy_init failed";
    return health;
  }
  const std::string url = fmt::format("http://{}:{}/squash/isSquashAlive", host, port);
  std::string body;
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_NOPROXY, "*");  // the VM is always reached directly
  curl_easy_setopt(curl.get(), CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, &collect);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &body);
  const auto start = std::chrono::steady_clock::now();
  const CURLcode code = curl_easy_perform(curl.get());
  health.latency = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  if (code != CURLE_OK) {
    health.first_line = curl_easy_strerror(code);
    return health;
  }
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &health.http_status);
  health.first_line = first_line_of(body);
  // Only the status counts: the body's wording is not a documented interface.
  health.healthy = health.http_status == 200;
  return health;
}

}  // namespace labctl::squashtm
