#pragma once

// A real registry (Debian's `docker-registry`, the CNCF distribution registry) on a free
// loopback port, for tests: scratch storage, optionally a pull-through cache of another
// registry (`proxy: {remoteurl: ...}`). Started by start(), which waits (bounded) for GET
// /v2/ to answer 200; killed, and its scratch directory removed, when the object goes, however
// the test ends. Its access log tells what it was asked (count_requests), which is how a test
// proves how often a cache fetched a blob from its upstream (distribution 2.8 fetches a missed
// blob twice at once: one copy streams to the client, one goes to storage; then never again).

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "provision/registry/transport.hpp"
#include "tests/support/golden.hpp"
#include "tests/support/loopback.hpp"

namespace labctl::testing {

struct TestRegistryOptions {
  std::string proxy_remote;  // "" = a plain registry that takes pushes
  std::string storage;       // "" = a fresh directory inside the scratch directory (removed)
};

class TestRegistry {
 public:
  static constexpr const char* k_binary = "/usr/bin/docker-registry";

  explicit TestRegistry(TestRegistryOptions options = {}) : m_options(std::move(options)) {
    if (m_options.storage.empty() && !m_scratch.path().empty()) {
      m_options.storage = (m_scratch.path() / "storage").string();
    }
  }
  // Its directory (config, log, storage) goes with it, unless the test failed.
  ~TestRegistry() { stop(); }
  TestRegistry(const TestRegistry&) = delete;
  TestRegistry& operator=(const TestRegistry&) = delete;

  // Why a test cannot run a registry here ("" when it can).
  static std::string skip_reason() {
    if (::access(k_binary, X_OK) != 0) {
      return std::string(k_binary) + " is not installed (Debian package docker-registry)";
    }
    return "";
  }

  // Starts the registry and waits for /v2/; "" or why it did not come up (with its log).
  std::string start() {
    if (m_scratch.path().empty()) {
      return "no scratch directory";
    }
    std::string why;
    for (int attempt = 0; attempt < 3; ++attempt) {  // a free port may be taken meanwhile
      m_port = free_loopback_port();
      write_config();
      if (why = launch(); why.empty()) {
        return "";
      }
    }
    return why;
  }

  // SIGTERM, then SIGKILL after 5 s; the storage stays until the object goes.
  void stop() {
    if (m_pid <= 0) {
      return;
    }
    ::kill(m_pid, SIGTERM);
    for (int i = 0; i < 50 && ::waitpid(m_pid, nullptr, WNOHANG) == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ::kill(m_pid, SIGKILL);
    ::waitpid(m_pid, nullptr, 0);
    m_pid = -1;
  }

  int port() const { return m_port; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port); }
  std::string storage() const { return m_options.storage; }
  std::filesystem::path log_path() const { return m_scratch.path() / "registry.log"; }
  std::string log() const { return read_file(log_path()); }

  // True once the blob is in the registry's storage (a cache stores what it fetched in the
  // background); waits up to `bound`.
  bool wait_stored(const std::string& digest,
                   std::chrono::milliseconds bound = std::chrono::seconds(10)) const {
    const std::string hex = digest.substr(digest.find(':') + 1);
    const auto data = std::filesystem::path(m_options.storage) / "docker/registry/v2/blobs/sha256" /
                      hex.substr(0, 2) / hex / "data";
    const auto until = std::chrono::steady_clock::now() + bound;
    while (!std::filesystem::exists(data) && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return std::filesystem::exists(data);
  }

  // count_requests once it reaches `expected`, or after 5 s: a request's access-log line is
  // written after its response, so the last one may lag behind what the client saw.
  int settled_count(const std::string& method, const std::string& path_part, int expected) const {
    for (int i = 0; i < 50 && count_requests(method, path_part) < expected; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return count_requests(method, path_part);
  }

  // Access-log lines for requests whose request line holds `method` and `path_part`
  // ("GET", "/blobs/sha256:..."); 200s only when `ok_only`.
  int count_requests(const std::string& method, const std::string& path_part,
                     bool ok_only = true) const {
    int count = 0;
    for (const std::string& line : lines_of(log())) {
      const auto request = line.find("\"" + method + " ");
      if (request == std::string::npos || line.find(path_part, request) == std::string::npos) {
        continue;
      }
      const auto end = line.find("\" ", request + 1);
      count += !ok_only || (end != std::string::npos && line.compare(end + 2, 3, "200") == 0);
    }
    return count;
  }

 private:
  void write_config() const {
    std::ofstream config(m_scratch.path() / "config.yml");
    config << "version: 0.1\nlog:\n  level: info\n  formatter: text\n"
           << "  accesslog:\n    disabled: false\nstorage:\n  filesystem:\n    rootdirectory: "
           << m_options.storage
           << "\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:" << m_port << "\n";
    if (!m_options.proxy_remote.empty()) {
      config << "proxy:\n  remoteurl: " << m_options.proxy_remote << "\n";
    }
  }

  std::string launch() {
    const std::string log_file = log_path().string();
    const std::string config = (m_scratch.path() / "config.yml").string();
    m_pid = ::fork();
    if (m_pid == 0) {
      const int fd = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::execl(k_binary, k_binary, "serve", config.c_str(), nullptr);
      ::_exit(127);
    }
    return wait_ready();
  }

  std::string wait_ready() {
    registry::CurlTransport http({std::chrono::seconds(1), std::chrono::seconds(2)});
    for (int i = 0; i < 100; ++i) {
      if (::waitpid(m_pid, nullptr, WNOHANG) == m_pid) {
        m_pid = -1;
        return "docker-registry exited: " + log();
      }
      auto response = http.send({"GET", url() + "/v2/"});
      if (response && response->status == 200) {
        return "";
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    stop();
    return "docker-registry did not answer on " + url() + "/v2/ within 10 s: " + log();
  }

  TestRegistryOptions m_options;
  ScratchDir m_scratch{"lct-registry"};
  pid_t m_pid = -1;
  int m_port = 0;
};

}  // namespace labctl::testing
