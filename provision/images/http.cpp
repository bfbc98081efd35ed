#include "provision/images/http.hpp"

#include <curl/curl.h>

#include <cstdio>
#include <filesystem>
#include <memory>

namespace labctl::images {
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

std::size_t append_string(char* data, std::size_t size, std::size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

CurlHandle make_handle(const std::string& url) {
  CurlHandle curl(curl_easy_init(), &curl_easy_cleanup);
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_FAILONERROR, 1L);
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

CurlHttpClient::CurlHttpClient() {
  static const bool k_initialised = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  (void)k_initialised;
}

Result<std::string> CurlHttpClient::get(const std::string& url) {
  CurlHandle curl = make_handle(url);
  std::string body;
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, &append_string);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &body);
  const CURLcode code = curl_easy_perform(curl.get());
  if (code != CURLE_OK) {
    return curl_error(url, code, curl.get());
  }
  return body;
}

Result<DownloadResult> CurlHttpClient::download(const std::string& url, const std::string& path,
                                                const ProgressFn& progress) {
  CurlHandle curl = make_handle(url);
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

}  // namespace labctl::images
