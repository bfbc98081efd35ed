#pragma once

// HTTP downloads: the seam tests replace. CurlHttpClient is the libcurl implementation.

#include <cstdint>
#include <functional>
#include <string>

#include "provision/result.hpp"

namespace labctl::images {

// Bytes received so far (including a resumed prefix) and the expected total (0 = unknown).
using ProgressFn = std::function<void(std::uint64_t done, std::uint64_t total)>;

struct DownloadResult {
  long status = 0;                // HTTP status of the last response
  bool resumed = false;           // the server honoured the Range request and bytes were appended
  bool complete_already = false;  // 416: the partial file already holds the whole body
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // The whole body of a small resource (a checksum list).
  virtual Result<std::string> get(const std::string& url) = 0;
  // Writes the body to `path`. When the file already holds bytes, asks for the rest with a
  // Range request and appends; a server that ignores Range gets the file rewritten.
  virtual Result<DownloadResult> download(const std::string& url, const std::string& path,
                                          const ProgressFn& progress) = 0;
};

class CurlHttpClient : public HttpClient {
 public:
  CurlHttpClient();
  Result<std::string> get(const std::string& url) override;
  Result<DownloadResult> download(const std::string& url, const std::string& path,
                                  const ProgressFn& progress) override;
};

}  // namespace labctl::images
