#include "provision/sys/http.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>

#include <fmt/format.h>

namespace labctl::sys {
namespace {

using CurlHandle = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>;

struct FileCloser {
  void operator()(std::FILE* file) const {
    if (file != nullptr) {
      std::fclose(file);
    }
  }
};

// State of one download. The file is opened on the first body bytes, when the status
// tells whether the server honoured the Range request (206: append) or not (rewrite).
struct Transfer {
  CURL* curl = nullptr;
  std::string path;
  std::uint64_t offset = 0;  // bytes already on disk when the request was made
  std::unique_ptr<std::FILE, FileCloser> file;
  bool appending = false;
  const ProgressFn* progress = nullptr;
};

std::size_t write_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  if (!transfer->file) {
    long status = 0;
    curl_easy_getinfo(transfer->curl, CURLINFO_RESPONSE_CODE, &status);
    transfer->appending = status == 206 && transfer->offset > 0;
    transfer->file.reset(std::fopen(transfer->path.c_str(), transfer->appending ? "ab" : "wb"));
    if (!transfer->file) {
      return 0;  // aborts the transfer with CURLE_WRITE_ERROR
    }
  }
  return std::fwrite(data, size, count, transfer->file.get()) * size;
}

int report_progress(void* user, curl_off_t total, curl_off_t now, curl_off_t, curl_off_t) {
  auto* transfer = static_cast<Transfer*>(user);
  if (transfer->progress != nullptr && *transfer->progress && total > 0) {
    const std::uint64_t base = transfer->appending ? transfer->offset : 0;
    (*transfer->progress)(base + static_cast<std::uint64_t>(now),
                          base + static_cast<std::uint64_t>(total));
  }
  return 0;
}

// A body kept up to `max` bytes (0: all); what comes after is read and dropped.
struct Body {
  std::string text;
  std::size_t max = 0;
};

std::size_t append_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* body = static_cast<Body*>(user);
  const std::size_t n = size * count;
  const std::size_t room = body->max == 0 ? n : body->max - std::min(body->max, body->text.size());
  body->text.append(data, std::min(n, room));
  return n;
}

CurlHandle make_handle(const std::string& url) {
  CurlHandle curl(curl_easy_init(), &curl_easy_cleanup);
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM timeouts
  curl_easy_setopt(curl.get(), CURLOPT_CONNECTTIMEOUT, 30L);
  // A stalled mirror fails the pull instead of hanging it: < 1 KiB/s for 60 s.
  curl_easy_setopt(curl.get(), CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(curl.get(), CURLOPT_LOW_SPEED_TIME, 60L);
  return curl;
}

Error curl_error(const std::string& url, CURLcode code, CURL* curl) {
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  std::string message = "download of " + url + " failed: " + curl_easy_strerror(code);
  if (status >= 400) {
    message += " (HTTP " + std::to_string(status) + ")";
  }
  return Error::failure(message);
}

}  // namespace

Result<std::string> get_body(HttpClient& http, const std::string& url) {
  HttpRequest request;
  request.url = url;
  auto response = http.get(request);
  if (!response) {
    return response.error();
  }
  if (response->status >= 400) {  // as curl words it for a download (CURLOPT_FAILONERROR)
    return Error::failure(fmt::format(
        "download of {} failed: HTTP response code said error (HTTP {})", url, response->status));
  }
  return std::move(response->body);
}

CurlHttpClient::CurlHttpClient() {
  static const bool k_initialised = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  (void)k_initialised;
}

Result<HttpResponse> CurlHttpClient::get(const HttpRequest& request) {
  CurlHandle curl = make_handle(request.url);
  if (!curl) {
    return Error::failure("curl_easy_init failed");
  }
  if (request.timeout.count() > 0) {
    curl_easy_setopt(curl.get(), CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(request.timeout.count()));
    curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  }
  curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, request.follow_redirects ? 1L : 0L);
  if (!request.use_proxy) {
    curl_easy_setopt(curl.get(), CURLOPT_NOPROXY, "*");
  }
  Body body{"", request.max_body};
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, &append_body);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &body);
  const CURLcode code = curl_easy_perform(curl.get());
  if (code != CURLE_OK) {
    return curl_error(request.url, code, curl.get());
  }
  HttpResponse response;
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &response.status);
  response.body = std::move(body.text);
  return response;
}

Result<DownloadResult> CurlHttpClient::download(const std::string& url, const std::string& path,
                                                const ProgressFn& progress) {
  CurlHandle curl = make_handle(url);
  curl_easy_setopt(curl.get(), CURLOPT_FAILONERROR, 1L);
  Transfer transfer{curl.get(), path, 0, nullptr, false, &progress};
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    transfer.offset = std::filesystem::file_size(path, ec);
  }
  if (transfer.offset > 0) {
    curl_easy_setopt(curl.get(), CURLOPT_RESUME_FROM_LARGE,
                     static_cast<curl_off_t>(transfer.offset));
  }
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, &write_body);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(curl.get(), CURLOPT_XFERINFOFUNCTION, &report_progress);
  curl_easy_setopt(curl.get(), CURLOPT_XFERINFODATA, &transfer);
  curl_easy_setopt(curl.get(), CURLOPT_NOPROGRESS, 0L);
  const CURLcode code = curl_easy_perform(curl.get());
  DownloadResult result;
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &result.status);
  if (code == CURLE_HTTP_RETURNED_ERROR && result.status == 416 && transfer.offset > 0) {
    result.complete_already = true;  // nothing left to fetch; the checksum decides
    return result;
  }
  if (code != CURLE_OK) {
    return curl_error(url, code, curl.get());
  }
  if (!transfer.file) {  // empty body: still leave an (empty or complete) file behind
    transfer.file.reset(std::fopen(path.c_str(), transfer.offset > 0 ? "ab" : "wb"));
  }
  result.resumed = transfer.appending;
  return result;
}

}  // namespace labctl::sys
