#pragma once

// HTTP GETs and downloads: the seam tests replace. Base images (their downloads and checksum
// lists) and the Squash TM health check go through it. CurlHttpClient is the libcurl
// implementation.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "provision/result.hpp"

namespace labctl::sys {

// Bytes received so far (including a resumed prefix) and the expected total (0 = unknown).
using ProgressFn = std::function<void(std::uint64_t done, std::uint64_t total)>;

struct HttpRequest {
  std::string url;
  // Bounds connecting and the whole request. 0: a download's bounds (30 s to connect, then
  // only a stall fails it: < 1 KiB/s for 60 s).
  std::chrono::milliseconds timeout{0};
  std::size_t max_body = 0;  // keep at most this many bytes of the body (0: all of it)
  bool follow_redirects = true;
  bool use_proxy = true;  // the proxy the environment names, if any
};

struct HttpResponse {
  long status = 0;  // of the last response
  std::string body;
};

struct DownloadResult {
  long status = 0;                // HTTP status of the last response
  bool resumed = false;           // the server honoured the Range request and bytes were appended
  bool complete_already = false;  // 416: the partial file already holds the whole body
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // A response of any status; an Error only when none came (refused, timeout, DNS).
  virtual Result<HttpResponse> get(const HttpRequest& request) = 0;
  // Writes the body to `path`. When the file already holds bytes, asks for the rest with a
  // Range request and appends; a server that ignores Range gets the file rewritten.
  virtual Result<DownloadResult> download(const std::string& url, const std::string& path,
                                          const ProgressFn& progress) = 0;
};

// The whole body of a small resource (a checksum list); a status of 400 or more is an Error.
Result<std::string> get_body(HttpClient& http, const std::string& url);

class CurlHttpClient : public HttpClient {
 public:
  CurlHttpClient();
  Result<HttpResponse> get(const HttpRequest& request) override;
  Result<DownloadResult> download(const std::string& url, const std::string& path,
                                  const ProgressFn& progress) override;
};

}  // namespace labctl::sys
