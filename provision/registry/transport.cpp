#include "provision/registry/transport.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <memory>

namespace labctl::registry {
namespace {

using CurlHandle = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>;
using HeaderList = std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)>;

struct FileCloser {
  void operator()(std::FILE* file) const {
    if (file != nullptr) {
      std::fclose(file);
    }
  }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

// One exchange. The body goes to the output file only for a 2xx response: an error's body
// (the registry's JSON errors) stays in memory for the message.
struct Exchange {
  CURL* curl = nullptr;
  const Request* request = nullptr;
  Response response;
  File out;
  File in;
  bool failed_open = false;
};

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) {
    return "";
  }
  return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* exchange = static_cast<Exchange*>(user);
  const std::string line(data, size * count);
  if (line.starts_with("HTTP/")) {
    exchange->response.headers.clear();  // a redirect or 100-continue: keep the last one's
  } else if (const auto colon = line.find(':'); colon != std::string::npos) {
    exchange->response.headers[lower(trim(line.substr(0, colon)))] = trim(line.substr(colon + 1));
  }
  return size * count;
}

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* exchange = static_cast<Exchange*>(user);
  long status = 0;
  curl_easy_getinfo(exchange->curl, CURLINFO_RESPONSE_CODE, &status);
  const bool to_file = !exchange->request->output_file.empty() && status >= 200 && status < 300;
  if (!to_file) {
    exchange->response.body.append(data, size * count);
    return size * count;
  }
  if (!exchange->out) {
    exchange->out.reset(std::fopen(exchange->request->output_file.c_str(), "wb"));
    if (!exchange->out) {
      exchange->failed_open = true;
      return 0;  // aborts with CURLE_WRITE_ERROR
    }
  }
  return std::fwrite(data, size, count, exchange->out.get()) * size;
}

std::size_t on_read(char* data, std::size_t size, std::size_t count, void* user) {
  return std::fread(data, size, count, static_cast<Exchange*>(user)->in.get());
}

int on_progress(void* user, curl_off_t down_total, curl_off_t down_now, curl_off_t up_total,
                curl_off_t up_now) {
  const auto* request = static_cast<Exchange*>(user)->request;
  if (!request->progress) {
    return 0;
  }
  if (!request->body_file.empty() && up_total > 0) {
    request->progress(static_cast<std::uint64_t>(up_now), static_cast<std::uint64_t>(up_total));
  } else if (down_total > 0) {
    request->progress(static_cast<std::uint64_t>(down_now), static_cast<std::uint64_t>(down_total));
  }
  return 0;
}

void set_method(CURL* curl, Exchange& exchange) {
  const Request& request = *exchange.request;
  if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (!request.body_file.empty()) {
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);  // PUT from the read callback
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, &on_read);
    curl_easy_setopt(curl, CURLOPT_READDATA, &exchange);
    std::error_code ec;
    const auto size = std::filesystem::file_size(request.body_file, ec);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(ec ? 0 : size));
  } else if (request.method == "POST" || request.method == "PUT") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  const bool follow = request.method == "GET" || request.method == "HEAD";
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, follow ? 1L : 0L);
}

HeaderList header_list(const Request& request) {
  HeaderList list(nullptr, &curl_slist_free_all);
  curl_slist* raw = curl_slist_append(nullptr, "Expect:");  // no 1 s wait before uploads
  for (const std::string& header : request.headers) {
    raw = curl_slist_append(raw, header.c_str());
  }
  list.reset(raw);
  return list;
}

}  // namespace

std::string Response::header(const std::string& lower_name) const {
  const auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

CurlTransport::CurlTransport(TransportTimeouts timeouts) : m_timeouts(timeouts) {
  static const bool k_initialised = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  (void)k_initialised;
}

Result<Response> CurlTransport::send(const Request& request) {
  CurlHandle curl(curl_easy_init(), &curl_easy_cleanup);
  Exchange exchange{curl.get(), &request, {}, nullptr, nullptr, false};
  if (!request.body_file.empty()) {
    exchange.in.reset(std::fopen(request.body_file.c_str(), "rb"));
    if (!exchange.in) {
      return Error::failure("cannot read " + request.body_file);
    }
  }
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, static_cast<long>(m_timeouts.connect.count()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT, static_cast<long>(m_timeouts.total.count()));
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, static_cast<long>(m_timeouts.stall.count()));
  HeaderList headers = header_list(request);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &exchange);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &exchange);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, &on_progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &exchange);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, request.progress ? 0L : 1L);
  set_method(c, exchange);
  const CURLcode code = curl_easy_perform(c);
  exchange.out.reset();  // flushed and closed before the caller reads the file
  if (exchange.failed_open) {
    return Error::failure("cannot write " + request.output_file);
  }
  if (code != CURLE_OK) {
    return Error::failure(request.method + " " + request.url + ": " + curl_easy_strerror(code));
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &exchange.response.status);
  return std::move(exchange.response);
}

}  // namespace labctl::registry
