#pragma once

// HTTP for the tests: a scripted sys::HttpClient that records every GET, and a real server
// (busybox httpd) on a free loopback port.

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "provision/sys/http.hpp"
#include "tests/support/loopback.hpp"

extern char** environ;

namespace labctl::testing {

// Answers each GET from a script (URL -> response or error) and records the request; a URL
// without an answer gets the error libcurl gives for a refused connection. No downloads.
class FakeHttp : public sys::HttpClient {
 public:
  void on(const std::string& url, Result<sys::HttpResponse> answer) {
    m_answers.insert_or_assign(url, std::move(answer));
  }

  Result<sys::HttpResponse> get(const sys::HttpRequest& request) override {
    m_requests.push_back(request);
    const auto it = m_answers.find(request.url);
    if (it == m_answers.end()) {
      return Error::failure("download of " + request.url + " failed: Couldn't connect to server");
    }
    return it->second;
  }

  Result<sys::DownloadResult> download(const std::string& url, const std::string&,
                                       const sys::ProgressFn&) override {
    return Error::failure("FakeHttp does not download " + url);
  }

  const std::vector<sys::HttpRequest>& requests() const { return m_requests; }

 private:
  std::map<std::string, Result<sys::HttpResponse>> m_answers;
  std::vector<sys::HttpRequest> m_requests;
};

// busybox httpd serving `root` on 127.0.0.1 (it honours Range requests), stopped on exit.
class LocalHttpd {
 public:
  explicit LocalHttpd(const std::filesystem::path& root) : m_port(free_loopback_port()) {
    const std::string listen = "127.0.0.1:" + std::to_string(m_port);
    std::vector<std::string> args = {"busybox", "httpd", "-f", "-p", listen, "-h", root.string()};
    std::vector<char*> argv;
    for (auto& arg : args) {
      argv.push_back(arg.data());
    }
    argv.push_back(nullptr);
    if (::posix_spawnp(&m_pid, "busybox", nullptr, nullptr, argv.data(), environ) != 0) {
      m_pid = -1;
    }
    for (int i = 0; i < 100 && m_pid > 0 && !loopback_accepts(m_port); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  ~LocalHttpd() {
    if (m_pid > 0) {
      ::kill(m_pid, SIGTERM);
      ::waitpid(m_pid, nullptr, 0);
    }
  }
  LocalHttpd(const LocalHttpd&) = delete;
  LocalHttpd& operator=(const LocalHttpd&) = delete;
  bool running() const { return m_pid > 0 && loopback_accepts(m_port); }
  int port() const { return m_port; }
  std::string url(const std::string& file) const {
    return "http://127.0.0.1:" + std::to_string(m_port) + "/" + file;
  }

 private:
  int m_port;
  pid_t m_pid = -1;
};

}  // namespace labctl::testing
